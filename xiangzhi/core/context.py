"""Per-request context (client IP) for audit records, set by RequestContextMiddleware."""

from contextvars import ContextVar

_ip: ContextVar[str] = ContextVar("xiangzhi_ip", default="")


def current_ip() -> str:
    return _ip.get()


def set_ip(value: str):
    return _ip.set(value)


def reset_ip(token) -> None:
    _ip.reset(token)
