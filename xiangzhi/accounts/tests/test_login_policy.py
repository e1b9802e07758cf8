"""Login policy (issue 2 §4), proven against the real login view and token endpoint:
lockout after 5 failures for 15 minutes with one response for every refusal, session key
rotation, real logout, staff idle/absolute limits, disabling kills sessions and tokens,
3-of-4 character classes."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from xiangzhi.accounts import services
from xiangzhi.accounts.models import ApiToken, User, UserSession
from xiangzhi.audit.models import AuditEvent
from xiangzhi.core.testing import PASSWORD, TOWNSHIP, VILLAGE_A, make_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
TOKEN = "/api/v1/auth/token"
HOME = "/workbench/"


@pytest.fixture
def staff():
    return make_user("li_staff", "township_staff", TOWNSHIP)


def login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def logged_in(client) -> bool:
    """Whether the client's next request is served as a logged-in user (not sent to login)."""
    return client.get(HOME).status_code == 200


def fail(client, username, times=5):
    for _ in range(times):
        resp = login(client, username, "wrong-Password9")
        assert resp.status_code == 200


def normalised(resp, username) -> str:
    """The login page as the user sees it, minus the per-request CSRF token and the echo of
    the typed user name."""
    body = resp.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return body.replace(f'value="{username}"', 'value=""')


def age_attempts(minutes: float) -> None:
    """Time travel for axes: its failure records become ``minutes`` older."""
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - timedelta(minutes=minutes)
        )


class TestLockout:
    def test_good_password_logs_in(self, client, staff):
        resp = login(client, "li_staff", PASSWORD)
        assert resp.status_code == 302 and resp.url == reverse("core:home")
        assert logged_in(client)
        assert AuditEvent.objects.filter(action="auth.login", actor_name="li_staff").exists()

    def test_sixth_attempt_with_correct_password_is_refused(self, client, staff):
        fail(client, "li_staff", 5)
        resp = login(client, "li_staff", PASSWORD)
        assert resp.status_code == 200
        assert services.GENERIC_LOGIN_ERROR in resp.content.decode()
        assert not logged_in(client)

    def test_four_failures_do_not_lock(self, client, staff):
        fail(client, "li_staff", 4)
        assert login(client, "li_staff", PASSWORD).status_code == 302

    def test_locked_unknown_and_wrong_password_look_the_same(self, staff):
        locked = Client()
        fail(locked, "li_staff", 5)
        r_locked = login(locked, "li_staff", PASSWORD)
        r_unknown = login(Client(), "no_such_user", "whatever-Pass1")
        make_user("wang_staff", "township_staff", TOWNSHIP)
        r_wrong = login(Client(), "wang_staff", "wrong-Password9")
        assert r_locked.status_code == r_unknown.status_code == r_wrong.status_code == 200
        for resp in (r_locked, r_unknown, r_wrong):
            assert services.GENERIC_LOGIN_ERROR in resp.content.decode()
        assert normalised(r_locked, "li_staff") == normalised(r_unknown, "no_such_user")
        assert normalised(r_locked, "li_staff") == normalised(r_wrong, "wang_staff")

    def test_unlocks_after_fifteen_minutes(self, client, staff):
        fail(client, "li_staff", 5)
        age_attempts(14)
        assert login(client, "li_staff", PASSWORD).status_code == 200  # still locked at 14 min
        assert not logged_in(client)
        # The cool-off runs from the latest refused attempt (axes stamps every attempt, so
        # hammering a locked account keeps it locked): 16 minutes of quiet unlock it.
        age_attempts(16)
        resp = login(client, "li_staff", PASSWORD)
        assert resp.status_code == 302
        assert logged_in(client)

    def test_lockout_is_audited_with_the_accounts_area(self, client, staff):
        fail(client, "li_staff", 5)
        event = AuditEvent.objects.get(action="auth.lockout")
        assert event.actor_name == "li_staff" and event.result == "locked"
        assert event.area_code == TOWNSHIP
        failures = AuditEvent.objects.filter(action="auth.login_failed", actor_name="li_staff")
        assert failures.count() == 5 and all(f.area_code == TOWNSHIP for f in failures)

    def test_unknown_user_failure_has_no_area(self, client):
        login(client, "ghost", "x")
        assert AuditEvent.objects.get(action="auth.login_failed").area_code == ""

    def test_lockout_is_per_account(self, client, staff):
        make_user("wang_staff", "township_staff", TOWNSHIP)
        fail(client, "li_staff", 5)
        assert login(Client(), "wang_staff", PASSWORD).status_code == 302

    def test_token_endpoint_shares_the_lockout(self, staff):
        api = Client()
        for _ in range(5):
            resp = api.post(
                TOKEN, json.dumps({"username": "li_staff", "password": "bad"}), content_type="application/json"
            )
            assert resp.status_code == 401
        web = Client()
        assert login(web, "li_staff", PASSWORD).status_code == 200
        assert not logged_in(web)
        resp = api.post(
            TOKEN, json.dumps({"username": "li_staff", "password": PASSWORD}), content_type="application/json"
        )
        assert resp.status_code == 401
        assert resp.json()["detail"] == services.GENERIC_LOGIN_ERROR
        assert not ApiToken.objects.exists()

    def test_web_failures_lock_the_token_endpoint(self, client, staff):
        fail(client, "li_staff", 5)
        resp = Client().post(
            TOKEN, json.dumps({"username": "li_staff", "password": PASSWORD}), content_type="application/json"
        )
        assert resp.status_code == 401


class TestSessions:
    def test_login_rotates_the_session_key(self, client, staff):
        session = client.session
        session["probe"] = 1
        session.save()
        before = session.session_key
        assert client.cookies["sessionid"].value == before
        login(client, "li_staff", PASSWORD)
        after = client.cookies["sessionid"].value
        assert after and after != before
        assert not Session.objects.filter(session_key=before).exists()
        assert UserSession.objects.filter(user=staff, session_key=after).exists()

    def test_logout_deletes_the_session_row(self, client, staff):
        login(client, "li_staff", PASSWORD)
        key = client.cookies["sessionid"].value
        assert Session.objects.filter(session_key=key).exists()
        resp = client.post(reverse("accounts:logout"))
        assert resp.status_code == 302
        assert not Session.objects.filter(session_key=key).exists()
        assert not UserSession.objects.filter(session_key=key).exists()
        replay = Client()
        replay.cookies["sessionid"] = key  # the old cookie, replayed
        resp = replay.get(HOME)
        assert resp.status_code == 302 and resp.url.startswith(reverse("accounts:login"))
        assert AuditEvent.objects.filter(action="auth.logout", actor_name="li_staff").exists()

    def test_logout_needs_post(self, client, staff):
        login(client, "li_staff", PASSWORD)
        assert client.get(reverse("accounts:logout")).status_code == 405
        assert logged_in(client)

    def _shift(self, client, **seconds_ago):
        session = client.session
        for key, ago in seconds_ago.items():
            session[key] = time.time() - ago
        session.save()

    def test_staff_idle_timeout_30_minutes(self, client, staff):
        login(client, "li_staff", PASSWORD)
        self._shift(client, seen_at=29 * 60)
        assert logged_in(client)
        self._shift(client, seen_at=31 * 60)
        key = client.cookies["sessionid"].value
        resp = client.get(HOME)
        assert resp.status_code == 302 and resp.url.startswith(reverse("accounts:login"))
        assert not Session.objects.filter(session_key=key).exists()
        assert "登录已超时" in client.get(resp.url).content.decode()
        assert not logged_in(client)

    def test_activity_keeps_a_staff_session_alive(self, client, staff):
        login(client, "li_staff", PASSWORD)
        self._shift(client, seen_at=25 * 60)
        assert logged_in(client)  # refreshes seen_at
        assert time.time() - client.session["seen_at"] < 60

    def test_staff_absolute_lifetime_12_hours(self, client, staff):
        login(client, "li_staff", PASSWORD)
        self._shift(client, login_at=11 * 3600 + 59 * 60, seen_at=0)
        assert logged_in(client)
        self._shift(client, login_at=12 * 3600 + 60, seen_at=0)  # active a moment ago, but 12 h old
        assert not logged_in(client)

    def test_villager_sessions_are_not_staff_sessions(self, client):
        make_user("cun_min", "villager", VILLAGE_A)
        login(client, "cun_min", PASSWORD)
        assert client.session["staff"] is False
        self._shift(client, seen_at=2 * 3600)
        assert logged_in(client)


class TestDisable:
    def test_disabling_kills_sessions_and_tokens(self, staff):
        admin = make_user("boss", "township_admin", TOWNSHIP)
        web = Client()
        login(web, "li_staff", PASSWORD)
        assert logged_in(web)
        resp = Client().post(
            TOKEN, json.dumps({"username": "li_staff", "password": PASSWORD}), content_type="application/json"
        )
        token = resp.json()["token"]
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        with pytest.MonkeyPatch.context() as mp:
            from django.conf import settings

            mp.setattr(settings, "ROOT_URLCONF", "xiangzhi.accounts.tests.probe_urls")
            from django.urls import clear_url_caches

            clear_url_caches()
            try:
                assert Client().get("/probe/whoami", **bearer).json() == {"username": "li_staff"}
                services.user_disable(actor=admin, user=User.objects.get(username="li_staff"))
                assert Client().get("/probe/whoami", **bearer).status_code == 401
            finally:
                clear_url_caches()
        assert not ApiToken.objects.filter(user=staff).exists()
        assert not UserSession.objects.filter(user=staff).exists()
        resp = web.get(HOME)
        assert resp.status_code == 302 and resp.url.startswith(reverse("accounts:login"))
        # and a disabled account cannot log in again (same generic answer)
        resp = login(Client(), "li_staff", PASSWORD)
        assert resp.status_code == 200 and services.GENERIC_LOGIN_ERROR in resp.content.decode()


class TestPasswordRules:
    @pytest.mark.parametrize("password", ["abcdefgh1", "ABCDEFGH1", "abcdefgh!", "Abcdefghij"])
    def test_two_classes_rejected_in_chinese(self, password):
        with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
            validate_password(password, User(username="someone"))
        assert any("至少需要包含大写字母、小写字母、数字、符号中的 3 类" in m for m in exc.value.messages)

    @pytest.mark.parametrize("password", ["Qwmnzx7Lp", "qwmnzx7!p", "QWMNZX7!P"])
    def test_three_classes_accepted(self, password):
        validate_password(password, User(username="someone"))

    def test_short_password_message_is_chinese(self):
        with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
            validate_password("Ab1!", User(username="someone"))
        assert exc.value.messages == ["密码太短，至少需要 8 个字符。"]
