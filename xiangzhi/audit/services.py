"""audit.record(): the one way anything gets written to the audit log."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from xiangzhi.core.context import current_ip

from .models import AuditEvent

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x58_5A_41_55  # "XZAU": serialises appends so the chain never forks


class AuditWriteError(RuntimeError):
    """The audit record could not be written; the audited action must not happen."""


def _canonical(event_fields: dict) -> str:
    return json.dumps(event_fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def compute_hash(prev_hash: str, *, at: datetime, actor_id, actor_name, action, object_type, object_id,
                 area_code, ip, result, details) -> str:
    payload = _canonical(
        {
            "at": at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_name": actor_name,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "area_code": area_code,
            "ip": ip,
            "result": result,
            "details": details,
        }
    )
    return hashlib.sha256((prev_hash + payload).encode("utf-8")).hexdigest()


def _object_ref(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    if isinstance(obj, tuple):
        obj_type, obj_id = obj
        return obj_type, str(obj_id), ""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}", str(obj.pk), getattr(obj, "area_code", "") or ""


@transaction.atomic
def record(actor, action: str, obj=None, *, area_code: str = "", result: str = "ok", ip: str | None = None,
           **details) -> AuditEvent:
    """Append one audit event. Raises AuditWriteError when it cannot be written, so the
    caller's transaction (and the action it audits) rolls back."""
    try:
        object_type, object_id, obj_area = _object_ref(obj)
        actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
        actor_name = (getattr(actor, "username", "") or "") if actor_id else details.pop("username", "")
        details = json.loads(_canonical(details))  # plain JSON types only, stable for hashing
        fields = {
            "at": timezone.now(),
            "actor_id": actor_id,
            "actor_name": actor_name[:150],
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "area_code": area_code or obj_area,
            "ip": (ip if ip is not None else current_ip()) or "",
            "result": result,
            "details": details,
        }
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        prev = last or GENESIS
        event = AuditEvent(prev_hash=prev, hash=compute_hash(prev, **fields), **fields)
        event.save(force_insert=True)
        return event
    except AuditWriteError:
        raise
    except Exception as exc:  # any failure to write means: do not proceed
        raise AuditWriteError(str(exc)) from exc


def verify_chain(batch: int = 5000) -> tuple[bool, int, int | None]:
    """Recompute every hash in id order. Returns (ok, rows checked, first bad id)."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return True, checked, None
        for ev in rows:
            expected = compute_hash(
                prev,
                at=ev.at,
                actor_id=ev.actor_id,
                actor_name=ev.actor_name,
                action=ev.action,
                object_type=ev.object_type,
                object_id=ev.object_id,
                area_code=ev.area_code,
                ip=ev.ip,
                result=ev.result,
                details=ev.details,
            )
            if ev.prev_hash != prev or ev.hash != expected:
                return False, checked, ev.id
            prev = ev.hash
            checked += 1
            last_id = ev.id
