from ninja import Router, Schema
from ninja.errors import HttpError

from xiangzhi.core.api import ErrorOut, Text

from . import services

router = Router(tags=["认证"])


class TokenIn(Schema):
    username: Text(150)
    password: Text(128)


class TokenOut(Schema):
    token: str


@router.post(
    "/token", auth=None, response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut}, summary="获取令牌"
)
def issue_token(request, payload: TokenIn):
    """用户名和密码换取 Bearer 令牌（30 天有效）。连续失败 5 次锁定 15 分钟。"""
    raw = services.token_issue(request=request, username=payload.username, password=payload.password)
    if raw is None:
        raise HttpError(401, services.GENERIC_LOGIN_ERROR)
    return {"token": raw}
