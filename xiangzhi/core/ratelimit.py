"""A small fixed-window rate limiter on the shared cache, per client IP and scope.

Used by the public pages and public API operations (villagers' intake and tracking), where
there is no login to hold anyone to account. Each scope has one or more windows (e.g.
tracking: 10 a minute *and* 50 an hour). The client IP is hashed before it goes into a
cache key. Limits can be overridden with ``settings.XIANGZHI_RATE_LIMITS``
(``{"track": [(10, 60), (50, 3600)], ...}``)::

    from xiangzhi.core import ratelimit

    try:
        ratelimit.hit(request, "track")
    except ratelimit.RateLimited as exc:
        ...  # 429 with exc.message, Retry-After: exc.retry_after

``hit`` counts an attempt; ``peek`` only checks (for scopes that count successes only).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from .middleware import client_ip

DEFAULT_LIMITS: dict[str, list[tuple[int, int]]] = {
    "track": [(10, 60), (50, 3600)],  # public tracking: guessing codes must stay hopeless
    "intake": [(5, 600)],  # public intake: a villager submits a few, a script many
}

MESSAGE = "操作过于频繁，请 {wait}后再试"


class RateLimited(Exception):
    def __init__(self, scope: str, retry_after: int):
        self.scope = scope
        self.retry_after = max(1, int(retry_after))
        self.message = MESSAGE.format(wait=_wait_text(self.retry_after))
        super().__init__(self.message)


def _wait_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} 秒"
    return f"{(seconds + 59) // 60} 分钟"


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: int


def windows(scope: str) -> list[Window]:
    configured = getattr(settings, "XIANGZHI_RATE_LIMITS", {}) or {}
    pairs = configured.get(scope, DEFAULT_LIMITS.get(scope))
    if not pairs:
        raise KeyError(f"unknown rate-limit scope: {scope}")
    return [Window(int(limit), int(seconds)) for limit, seconds in pairs]


def client_address(request) -> str:
    """The client's IP. Behind our own nginx (``XIANGZHI_BEHIND_PROXY``, docs/deploy.md) every
    request comes from the proxy, so the address nginx appended last to X-Forwarded-For is
    used (earlier entries are whatever the client sent and are not trusted). Without a proxy
    the header is ignored, so it cannot be used to dodge a limit."""
    ip = client_ip(request)
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            ip = forwarded[:64]
    return ip


def _client(request) -> str:
    ip = client_address(request) or "unknown"
    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:24]


def _keys(request, scope: str, now: float):
    client = _client(request)
    for w in windows(scope):
        bucket = int(now // w.seconds)
        retry = (bucket + 1) * w.seconds - now
        yield f"xz-rl:{scope}:{w.seconds}:{bucket}:{client}", w, retry


def peek(request, scope: str) -> None:
    """Raise RateLimited if the client has used up a window of ``scope`` (counts nothing)."""
    now = time.time()
    for key, w, retry in _keys(request, scope, now):
        if (cache.get(key) or 0) >= w.limit:
            raise RateLimited(scope, retry)


def hit(request, scope: str) -> None:
    """Count one attempt; raise RateLimited if it goes over a window of ``scope`` (the
    refused attempt is counted too, so hammering does not reopen the window early)."""
    now = time.time()
    over = None
    for key, w, retry in _keys(request, scope, now):
        cache.add(key, 0, timeout=w.seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=w.seconds + 1)
            count = 1
        if count > w.limit and (over is None or retry > over):
            over = retry
    if over is not None:
        raise RateLimited(scope, over)
