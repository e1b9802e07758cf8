"""Glue only: axes announces a lockout, the audit log records it."""

from xiangzhi import audit


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    from .services import account_area

    username = (username or "")[:150]
    audit.record(
        None, "auth.lockout", result="locked", username=username, ip=ip_address or "", area_code=account_area(username)
    )
