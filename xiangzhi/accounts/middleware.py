"""Session policy: staff idle timeout 30 min and absolute lifetime 12 h (docs/security.md)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import auth


class SessionPolicyMiddleware:
    TOUCH_EVERY = 60  # seconds: refresh "seen_at" at most once a minute (one DB write)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            session = request.session
            now = time.time()
            staff = session.get("staff", True)
            idle = (settings.STAFF_IDLE_TIMEOUT if staff else settings.VILLAGER_IDLE_TIMEOUT).total_seconds()
            login_at = session.get("login_at", 0)
            seen_at = session.get("seen_at", 0)
            expired = now - seen_at > idle or (
                staff and now - login_at > settings.STAFF_ABSOLUTE_LIFETIME.total_seconds()
            )
            if expired:
                auth.logout(request)
                request.session_expired = True
                request.session["expired_notice"] = True  # the login page says why
            elif now - seen_at > self.TOUCH_EVERY:
                session["seen_at"] = now
                session.set_expiry(int(idle) + self.TOUCH_EVERY)
        return self.get_response(request)
