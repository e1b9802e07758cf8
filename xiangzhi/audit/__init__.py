"""Audit log. Use ``from xiangzhi.audit import record``."""


def record(*args, **kwargs):
    from .services import record as _record

    return _record(*args, **kwargs)
