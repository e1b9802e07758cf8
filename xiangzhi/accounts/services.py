"""Every write about accounts: login/logout, users, assignments, API tokens. All audited."""

from __future__ import annotations

import hashlib
import re
import secrets

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core.middleware import client_ip
from xiangzhi.core.scoping import can_in_area, forget_assignments
from xiangzhi.core.text import clean_text
from xiangzhi.org.models import Assignment, Region
from xiangzhi.org.roles import ROLES

from .models import ApiToken, User, UserSession

GENERIC_LOGIN_ERROR = "用户名或密码不正确，或账户已被暂时锁定。连续失败 5 次将锁定 15 分钟。"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,150}$")


def account_area(username: str) -> str:
    """Home area of the account a login name refers to ("" for unknown names), so that a
    township's auditor sees failed logins and lockouts of that township's accounts."""
    if not username:
        return ""
    return User.objects.filter(username=username).values_list("area_code", flat=True).first() or ""


def is_staff_user(user) -> bool:
    """Staff session policy applies unless every assignment is a non-staff role (villager)."""
    roles = set(user.assignments.values_list("role", flat=True)) if user.pk else set()
    return not roles or any(ROLES[r].staff for r in roles if r in ROLES)


# --- login / logout ----------------------------------------------------------------------
def login_attempt(*, request, username: str, password: str) -> User | None:
    """Authenticate (lockout enforced by axes in ``authenticate``) and log in.
    Unknown, wrong-password and locked accounts all get ``None`` — one response for all."""
    username = (username or "").strip()[:150]
    user = auth.authenticate(request=request, username=username, password=password)
    if user is None or not user.is_active:
        audit.record(None, "auth.login_failed", result="denied", username=username, area_code=account_area(username))
        return None
    auth.login(request, user)  # cycles the session key (no fixation)
    now = timezone.now()
    request.session["login_at"] = now.timestamp()
    request.session["seen_at"] = now.timestamp()
    request.session["staff"] = is_staff_user(user)
    request.session.save()
    UserSession.objects.create(
        user=user, session_key=request.session.session_key, ip=client_ip(request)
    )
    audit.record(user, "auth.login", user)
    return user


def logout_user(*, request) -> None:
    user = request.user if request.user.is_authenticated else None
    key = request.session.session_key
    auth.logout(request)  # flushes the session row
    if key:
        UserSession.objects.filter(session_key=key).delete()
        Session.objects.filter(session_key=key).delete()
    if user:
        audit.record(user, "auth.logout", user)


def end_sessions(user: User) -> int:
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


# --- users ---------------------------------------------------------------------------
def _check_area_admin(actor, area_code: str, perm: str = "accounts.add_user") -> None:
    if actor is not None and not can_in_area(actor, perm, area_code):
        raise PermissionDenied("无权在该区域管理账户")


@transaction.atomic
def user_create(*, actor, username: str, password: str, full_name: str = "", area_code: str = "") -> User:
    username = (username or "").strip()
    full_name = clean_text(full_name)
    errors = {}
    if not username:
        errors["username"] = "请填写用户名"
    elif not USERNAME_RE.match(username):
        errors["username"] = "用户名只能包含英文字母、数字和 _ . @ + -，最多 150 个字符"
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = "该用户名已被使用"
    if len(full_name) > 50:
        errors["full_name"] = "姓名最多 50 个字"
    if area_code and not Region.objects.filter(code=area_code).exists():
        errors["area_code"] = "区域不存在"
    if errors:
        raise ValidationError(errors)
    _check_area_admin(actor, area_code)
    user = User(username=username, full_name=full_name, area_code=area_code)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    audit.record(actor, "accounts.user_create", user, area_code=area_code, username_created=username)
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str) -> None:
    """Set a new password (an administrator's reset): every session and token of the user ends."""
    if actor is not None and actor.pk != user.pk:
        _check_area_admin(actor, user.area_code or "", "accounts.change_user")
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    end_sessions(user)
    ApiToken.objects.filter(user=user).delete()
    audit.record(actor, "accounts.password_set", user)


@transaction.atomic
def user_disable(*, actor, user: User) -> None:
    """Disable an account: every web session and API token it has dies now."""
    if actor is not None:
        if actor.pk == user.pk:
            raise ValidationError({"is_active": "不能停用自己的账户"})
        _check_area_admin(actor, user.area_code or "", "accounts.change_user")
    user.is_active = False
    user.save(update_fields=["is_active"])
    n_sessions = end_sessions(user)
    n_tokens, _ = ApiToken.objects.filter(user=user).delete()
    audit.record(actor, "accounts.user_disable", user, sessions_ended=n_sessions, tokens_revoked=n_tokens)


@transaction.atomic
def user_enable(*, actor, user: User) -> None:
    if actor is not None:
        _check_area_admin(actor, user.area_code or "", "accounts.change_user")
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit.record(actor, "accounts.user_enable", user)


# --- assignments -----------------------------------------------------------------------
@transaction.atomic
def assignment_add(*, actor, user: User, area_code: str, role: str) -> Assignment:
    errors = {}
    region = Region.objects.filter(code=area_code).first()
    if role not in ROLES:
        errors["role"] = "未知角色"
    if region is None:
        errors["area_code"] = "区域不存在"
    elif role in ROLES and region.level not in ROLES[role].levels:
        errors["area_code"] = f"“{ROLES[role].label}”只能分配在{'/'.join(ROLES[role].levels)}层级"
    if errors:
        raise ValidationError(errors)
    if actor is not None and not can_in_area(actor, "org.add_assignment", area_code):
        raise PermissionDenied("无权在该区域分配岗位")
    assignment, created = Assignment.objects.get_or_create(
        user=user, area_code=area_code, role=role, defaults={"created_by": actor if actor and actor.pk else None}
    )
    if created:
        audit.record(actor, "org.assignment_add", assignment, area_code=area_code, user_id=user.pk, role=role)
    forget_assignments(user)
    return assignment


@transaction.atomic
def assignment_remove(*, actor, assignment: Assignment) -> None:
    if actor is not None and not can_in_area(actor, "org.delete_assignment", assignment.area_code):
        raise PermissionDenied("无权在该区域撤销岗位")
    audit.record(actor, "org.assignment_remove", assignment, user_id=assignment.user_id, role=assignment.role)
    assignment.delete()


# --- API tokens ------------------------------------------------------------------------
def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_issue(*, request, username: str, password: str) -> str | None:
    username = (username or "").strip()[:150]
    user = auth.authenticate(request=request, username=username, password=password)
    if user is None or not user.is_active:
        audit.record(None, "auth.token_failed", result="denied", username=username, area_code=account_area(username))
        return None
    raw = "xz_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        key_hash=_hash_token(raw),
        prefix=raw[:8],
        expires_at=timezone.now() + settings.API_TOKEN_LIFETIME,
    )
    audit.record(user, "auth.token_issue", user)
    return raw


def token_user(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None (expired, revoked, disabled)."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash_token(raw)).first()
    now = timezone.now()
    if token is None or token.expires_at <= now or not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
