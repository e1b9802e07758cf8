"""API kernel: auth, error shapes (Chinese, field-level), pagination. Every router under
/api/v1/ uses these; every operation declares every status it can return."""

from __future__ import annotations

import re
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import AfterValidator, Field

from xiangzhi.audit.services import AuditWriteError

from .scoping import has_perm


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


# Largest primary key a database row can have (signed 64-bit); path ids are bounded by it
# so that a huge number is a 422, not an overflow inside the database driver.
MAX_ID = 2**63 - 1

# Strings may not hold NUL (PostgreSQL rejects it) or lone surrogates (not encodable).
NO_NUL = r"^[^\x00]*$"
_FORBIDDEN = re.compile(r"[\x00\ud800-\udfff]")
FORBIDDEN_CHAR_MESSAGE = "不能包含空字符或无效的 Unicode 字符"


def Text(max_length: int, *, min_length: int = 0, pattern: str | None = None, message: str = "格式不正确"):  # noqa: N802
    """A string input type: bounded length, no NUL/lone surrogates, optional full-match
    ``pattern`` (ASCII classes only, so that Python and the OpenAPI/ECMA regex agree) with a
    Chinese ``message``. The pattern is published in the OpenAPI schema."""
    rx = re.compile(pattern) if pattern else None

    def check(value: str) -> str:
        if _FORBIDDEN.search(value):
            raise ValueError(FORBIDDEN_CHAR_MESSAGE)
        if rx is not None and not rx.fullmatch(value):
            raise ValueError(message)
        return value

    return Annotated[
        str,
        Field(
            min_length=min_length,
            max_length=max_length,
            json_schema_extra={"pattern": f"^(?:{pattern})$" if pattern else NO_NUL},
        ),
        AfterValidator(check),
    ]


# Statuses every authenticated operation may return.
AUTH_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut}
READ_ERRORS: dict[int, Any] = {**AUTH_ERRORS, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 400: ErrorOut, 409: ErrorOut}


class BearerAuth(HttpBearer):
    openapi_description = "POST /api/v1/auth/token 取得令牌，请求头：Authorization: Bearer <token>"

    def authenticate(self, request, token):
        from xiangzhi.accounts.services import token_user

        user = token_user(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """Browser session (same-origin pages); CSRF enforced for unsafe methods."""

    param_name = "sessionid"

    def __init__(self):
        super().__init__(csrf=True)

    def _get_key(self, request):
        # Without a logged-in session there is nothing to protect: the caller is anonymous
        # (401), not a CSRF victim (ninja would answer every anonymous POST with 403).
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        try:
            return super()._get_key(request)
        except HttpError:
            raise HttpError(403, "请求未通过 CSRF 校验，请刷新页面后重试")

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


AUTH = [BearerAuth(), SessionAuth()]


def require_perm(request, perm: str) -> None:
    if not has_perm(request.auth, perm):
        raise PermissionDenied("您的岗位没有此项权限")


# --- pydantic messages in Chinese -------------------------------------------------------
_MESSAGES = {
    "missing": "必填项",
    "string_type": "应为文本",
    "string_too_short": "不能少于 {min_length} 个字符",
    "string_too_long": "内容过长（最多 {max_length} 个字符）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "必须大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "必须小于 {lt}",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "JSON 格式错误",
    "enum": "取值无效，可选：{expected}",
    "literal_error": "取值无效，可选：{expected}",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式错误",
    "string_pattern_mismatch": "格式不正确",
    "too_long": "项目过多",
    "value_error": "取值无效",
    "extra_forbidden": "不允许的字段",
    "string_unicode": FORBIDDEN_CHAR_MESSAGE,
    "finite_number": "应为有限数字",
    "too_short": "项目过少",
    "uuid_parsing": "格式不正确",
}


def translate_error(err: dict) -> tuple[str, str]:
    loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload", "form", "header", "cookie")]
    field = ".".join(loc) or "__all__"
    template = _MESSAGES.get(err.get("type", ""), "取值无效")
    try:
        message = template.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        message = template
    if err.get("type") == "value_error" and err.get("ctx", {}).get("error"):
        message = str(err["ctx"]["error"])
    return field, message


def _field_errors(errors) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for err in errors:
        field, message = translate_error(err)
        out.setdefault(field, []).append(message)
    return out


def install_error_handlers(api) -> None:
    @api.exception_handler(NinjaValidationError)
    def on_ninja_validation(request, exc):
        return api.create_response(
            request, {"detail": "提交的数据有误", "errors": _field_errors(exc.errors)}, status=422
        )

    @api.exception_handler(DjangoValidationError)
    def on_validation(request, exc):
        if hasattr(exc, "error_dict"):
            errors = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        else:
            errors = {"__all__": [str(m) for m in exc.messages]}
        first = next(iter(errors.values()))[0] if errors else "提交的数据有误"
        return api.create_response(request, {"detail": first, "errors": errors}, status=400)

    @api.exception_handler(PermissionDenied)
    def on_denied(request, exc):
        return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)

    @api.exception_handler(Http404)
    def on_404(request, exc):
        return api.create_response(request, {"detail": "对象不存在或不在管辖范围内"}, status=404)

    @api.exception_handler(AuthenticationError)
    def on_auth(request, exc):
        return api.create_response(request, {"detail": "未登录或令牌无效"}, status=401)

    @api.exception_handler(AuditWriteError)
    def on_audit_failure(request, exc):  # the audited action did not happen
        return api.create_response(request, {"detail": "审计记录写入失败，操作未执行，请稍后再试"}, status=503)

    @api.exception_handler(HttpError)
    def on_http(request, exc):
        detail = str(exc)
        if exc.status_code == 400 and detail.startswith("Cannot parse request body"):
            detail = "请求体不是有效的 JSON"
        return api.create_response(request, {"detail": detail}, status=exc.status_code)


# --- pagination -----------------------------------------------------------------------
class PageOut(Schema):
    count: int
    count_capped: bool
    limit: int
    offset: int
    next_offset: int | None


COUNT_CAP = 10_000


def paginate(qs, *, limit: int, offset: int) -> tuple[list, dict]:
    """O(page) list + a capped count (``count_capped`` true when there are more than
    COUNT_CAP): cheap on big registries."""
    limit = max(1, min(limit, 200))
    offset = max(0, offset)
    rows = list(qs[offset : offset + limit + 1])
    has_next = len(rows) > limit
    rows = rows[:limit]
    capped = qs[: COUNT_CAP + 1].count() if (has_next or offset) else len(rows)
    meta = {
        "count": min(capped, COUNT_CAP),
        "count_capped": capped > COUNT_CAP,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if has_next else None,
    }
    return rows, meta
