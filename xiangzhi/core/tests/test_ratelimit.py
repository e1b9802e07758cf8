"""core.ratelimit: fixed windows per client IP and scope on the cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from xiangzhi.core import ratelimit

LIMITS = {"track": [(3, 60), (5, 3600)], "intake": [(2, 600)]}


@pytest.fixture(autouse=True)
def _clean():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]  # 40 s into a minute, 2800 s into an hour
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


def req(ip="1.2.3.4"):
    return RequestFactory().post("/", REMOTE_ADDR=ip)


@override_settings(XIANGZHI_RATE_LIMITS=LIMITS)
def test_minute_window_then_hour_window(clock):
    for _ in range(3):
        ratelimit.hit(req(), "track")
    with pytest.raises(ratelimit.RateLimited) as exc:
        ratelimit.hit(req(), "track")
    assert exc.value.retry_after == 20
    assert exc.value.message == "操作过于频繁，请 20 秒后再试"
    clock[0] += 60  # next minute: the minute window reopens, the hour has 4 of 5 used
    ratelimit.hit(req(), "track")
    with pytest.raises(ratelimit.RateLimited) as exc:
        ratelimit.hit(req(), "track")
    assert exc.value.retry_after == 740
    assert exc.value.message == "操作过于频繁，请 13 分钟后再试"


@override_settings(XIANGZHI_RATE_LIMITS=LIMITS)
def test_per_ip_and_per_scope(clock):
    for _ in range(3):
        ratelimit.hit(req("1.1.1.1"), "track")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.hit(req("1.1.1.1"), "track")
    ratelimit.hit(req("2.2.2.2"), "track")  # another client
    ratelimit.hit(req("1.1.1.1"), "intake")  # another scope


@override_settings(XIANGZHI_RATE_LIMITS=LIMITS)
def test_peek_counts_nothing(clock):
    for _ in range(10):
        ratelimit.peek(req(), "intake")
    ratelimit.hit(req(), "intake")
    ratelimit.hit(req(), "intake")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.peek(req(), "intake")


def test_defaults_and_unknown_scope():
    assert [(w.limit, w.seconds) for w in ratelimit.windows("track")] == [(10, 60), (50, 3600)]
    assert [(w.limit, w.seconds) for w in ratelimit.windows("intake")] == [(5, 600)]
    with pytest.raises(KeyError):
        ratelimit.windows("nope")


def test_ip_is_not_stored_in_clear(clock):
    ratelimit.hit(req("203.0.113.77"), "track")
    keys = [k for k in cache._cache] if hasattr(cache, "_cache") else []
    assert keys and not any("203.0.113.77" in k for k in keys)


@override_settings(XIANGZHI_RATE_LIMITS=LIMITS)
def test_forwarded_for_counts_only_behind_our_proxy(clock):
    def spoofed(xff):
        return RequestFactory().post("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=xff)

    for i in range(3):  # no proxy configured: a forged header changes nothing
        ratelimit.hit(spoofed(f"9.9.9.{i}"), "track")
    with pytest.raises(ratelimit.RateLimited):
        ratelimit.hit(spoofed("9.9.9.99"), "track")
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        assert ratelimit.client_address(spoofed("6.6.6.6, 203.0.113.5")) == "203.0.113.5"
        for _ in range(3):
            ratelimit.hit(spoofed("6.6.6.6, 203.0.113.5"), "track")
        with pytest.raises(ratelimit.RateLimited):
            ratelimit.hit(spoofed("7.7.7.7, 203.0.113.5"), "track")  # same client, other forged prefix
        ratelimit.hit(spoofed("203.0.113.6"), "track")  # another villager behind the same proxy
