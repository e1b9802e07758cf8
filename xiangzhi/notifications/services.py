"""One way to tell a person something: ``notify()``. In-app messages always; an SMS
backend (settings.SMS_BACKEND, default: write to the log) when asked for. No real SMS
provider is wired in; a deployment plugs one in by naming a class with ``send(phone, text)``."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .models import Message

log = logging.getLogger("xiangzhi.sms")


class ConsoleSmsBackend:
    """Writes the message to the log instead of sending it (the default)."""

    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        masked = phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
        log.info("SMS to %s: %s", masked, text)
        self.sent.append((phone, text))


def sms_backend():
    return import_string(getattr(settings, "SMS_BACKEND", "xiangzhi.notifications.services.ConsoleSmsBackend"))()


def notify(*, user, title: str, body: str = "", url: str = "", topic: str = "", dedupe_key: str | None = None,
           sms_phone: str | None = None) -> Message | None:
    """Create the in-app message (once per ``dedupe_key``) and optionally text the phone
    after the transaction commits. Returns None if a message with that key exists."""
    if user is None:
        return None
    try:
        with transaction.atomic():
            message = Message.objects.create(
                user=user, title=title[:200], body=body, url=url[:300], topic=topic[:50], dedupe_key=dedupe_key
            )
    except IntegrityError:
        return None
    if sms_phone:
        transaction.on_commit(lambda: sms_backend().send(sms_phone, f"{title} {body}".strip()[:300]))
    return message


def mark_read(*, user, message_ids) -> int:
    return Message.objects.filter(user=user, id__in=list(message_ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def unread_count(user) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).count()
