"""audit.record(): the one way anything gets written to the audit log."""

from __future__ import annotations

import json
import zlib
from datetime import datetime

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from xiangzhi.core.context import current_ip

from .models import CHAINS, GENESIS, PG_LOCK_KEY, AuditEvent, canonical, chain_hash, payload

_PG_LOCK_KEY = PG_LOCK_KEY


class AuditWriteError(RuntimeError):
    """The audit record could not be written; the audited action must not happen."""


def _canonical(value) -> str:
    return canonical(value)


def compute_hash(prev_hash: str, *, at: datetime, actor_id, actor_name, action, object_type, object_id,
                 area_code, ip, result, details) -> str:
    return chain_hash(prev_hash, payload(at=at, actor_id=actor_id, actor_name=actor_name, action=action,
                                         object_type=object_type, object_id=object_id, area_code=area_code, ip=ip,
                                         result=result, details=details))  # fmt: skip


def _object_ref(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    if isinstance(obj, tuple):
        obj_type, obj_id = obj
        return obj_type, str(obj_id), ""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}", str(obj.pk), getattr(obj, "area_code", "") or ""


def preferred_chain(object_type: str, object_id: str, actor_id) -> int:
    """The chain an event goes to when it is free: by the audited object, else by the
    actor, else 0 — deterministic, and spread evenly over CHAINS."""
    if object_type:
        key = f"{object_type}:{object_id}"
    elif actor_id:
        key = f"user:{actor_id}"
    else:
        return 0
    return zlib.crc32(key.encode("utf-8")) % CHAINS


def record(actor, action: str, obj=None, *, area_code: str = "", result: str = "ok", ip: str | None = None,
           **details) -> AuditEvent:
    """Append one audit event. Raises AuditWriteError when it cannot be written, so the
    caller's transaction (and the action it audits) rolls back.

    Inside the caller's transaction the event is written without a savepoint; when the
    database refuses a statement, the enclosing ``atomic`` block is marked for rollback,
    so the audited action cannot commit without its record. Called outside a
    transaction, it opens one of its own (the chain lock lives until its commit)."""
    if connection.in_atomic_block:
        return _append(actor, action, obj, area_code, result, ip, details)
    with transaction.atomic():
        return _append(actor, action, obj, area_code, result, ip, details)


def _append(actor, action, obj, area_code, result, ip, details) -> AuditEvent:
    try:
        object_type, object_id, obj_area = _object_ref(obj)
        actor_id = actor.pk if actor is not None and getattr(actor, "pk", None) else None
        actor_name = (getattr(actor, "username", "") or "") if actor_id else details.pop("username", "")
        details_json = canonical(details) if details else "{}"
        if details:  # plain JSON types only, stable for hashing
            details = json.loads(details_json)
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
        event = AuditEvent(chain=preferred_chain(object_type, object_id, actor_id), **fields)
        event.__dict__["_payload"] = payload(**fields)
        event.__dict__["_details_json"] = details_json
        try:
            event.save(force_insert=True)  # locks a chain (PostgreSQL) and appends to it
        except DatabaseError:
            transaction.set_rollback(True)  # the audited action must not commit without its record
            raise
        return event
    except AuditWriteError:
        raise
    except Exception as exc:  # any failure to write means: do not proceed
        raise AuditWriteError(str(exc)) from exc


def verify_chain(batch: int = 5000) -> tuple[bool, int, int | None]:
    """Recompute every hash in id order, each row against the previous row of its own
    chain. Returns (ok, rows checked, first bad id)."""
    tails: dict[int, str] = {}
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            return True, checked, None
        for ev in rows:
            prev = tails.get(ev.chain, GENESIS)
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
            tails[ev.chain] = ev.hash
            checked += 1
            last_id = ev.id
