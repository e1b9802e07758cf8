from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models

from xiangzhi.core.scoping import RestrictedQuerySet


class UserManager(DjangoUserManager.from_queryset(RestrictedQuerySet)):
    """Django's user manager, plus ``restrict(user, action)`` (area = the user's home area)."""


class User(AbstractUser):
    """An account. ``area_code`` is the user's home area (for scoping user management);
    what the user may do comes only from ``Assignment`` rows."""

    full_name = models.CharField("姓名", max_length=50, blank=True)
    area_code = models.CharField("所属区域", max_length=15, blank=True, db_index=True)
    # Kept by database triggers (migration accounts/0002), read with the user row that every
    # request loads anyway, so the page shell needs no query of its own:
    # * scope_stamp changes whenever one of the user's assignments or any region changes —
    #   the key of the per-process scope caches (core.scoping); "" = never had an assignment;
    # * unread_messages counts the user's unread in-app messages (the navbar badge).
    scope_stamp = models.CharField(max_length=16, default="", blank=True, editable=False)
    unread_messages = models.IntegerField(default=0, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = "用户"

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class ApiToken(models.Model):
    """Bearer token for the API. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API 令牌"

    def __str__(self):
        return f"{self.prefix}…"


class UserSession(models.Model):
    """Which session keys belong to which user, so that disabling a user or changing its
    password can end every session it has."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ip = models.CharField(max_length=45, blank=True)

    def __str__(self):
        return f"session of {self.user_id}"
