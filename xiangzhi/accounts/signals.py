"""Glue only: axes announces a lockout, the audit log records it."""

from xiangzhi import audit


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    audit.record(None, "auth.lockout", result="locked", username=(username or "")[:150], ip=ip_address or "")
