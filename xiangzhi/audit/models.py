from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.conf import settings
from django.db import connections, models, transaction

from xiangzhi.core import prepared
from xiangzhi.core.scoping import RestrictedManager


class AuditEvent(models.Model):
    """Append-only, hash-chained record of who did what, where, when.

    Rows are never updated or deleted: database triggers refuse it (SQLite and
    PostgreSQL), and ``verify_audit_chain`` recomputes every hash. The log is
    ``CHAINS`` parallel hash chains (ADR 0008): each row's ``prev_hash`` is the hash of
    the previous row (by id) of the same ``chain``; rows written before the chains
    existed are all chain 0.
    """

    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("动作", max_length=64)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    area_code = models.CharField("区域", max_length=15, blank=True)
    ip = models.CharField("IP", max_length=45, blank=True)
    result = models.CharField("结果", max_length=16, default="ok")
    details = models.JSONField("详情", default=dict, blank=True)
    chain = models.PositiveSmallIntegerField("链", default=0)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "审计记录"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["area_code", "at"], name="audit_area_at"),
            models.Index(fields=["action", "at"], name="audit_action_at"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
            models.Index(fields=["chain", "id"], name="audit_chain_id"),  # a chain's tail
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, using=None, **kwargs):
        """Append a new row as the newest of its chain: ``prev_hash`` = the chain's tail,
        ``hash`` = SHA-256(prev_hash ‖ canonical JSON); ``audit.record`` set the fields and
        the preferred ``chain``. On PostgreSQL: one statement locks the chain for the rest
        of the transaction (the preferred one if free, else the next free one — ADR
        0008), and one ``INSERT`` reads that chain's tail and computes the hash in the
        database (both prepared, ``core.prepared``). On SQLite, whose writers are
        serialised anyway: a tail read and an ``INSERT``. No ORM insert machinery and no
        signals: this is on the path of every audited write. Existing rows are never
        saved again (the database refuses it)."""
        if not self._state.adding or self.pk is not None:
            return super().save(*args, using=using, **kwargs)
        using = using or "default"
        conn = connections[using]
        if not conn.in_atomic_block:  # the chain lock must last until the row is committed
            with transaction.atomic(using=using):
                return self.save(*args, using=using, **kwargs)
        payload = self.__dict__.get("_payload") or event_payload(self)
        details = self.__dict__.get("_details_json") or canonical(self.details)
        with prepared.cursor(using) as cur:
            if conn.vendor == "postgresql":
                cur.execute(LOCK_CHAIN_PG, [self.chain, CHAINS, CHAINS - 1, PG_LOCK_KEY])
                row = cur.fetchone()
                if row is None:  # every chain taken: wait for the preferred one
                    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PG_LOCK_KEY, self.chain])
                else:
                    self.chain = row[0]
                # a statement of its own: it sees the chain's last commit before the lock
                cur.execute(APPEND_PG, [self.chain, GENESIS, self.at, self.actor_id, self.actor_name, self.action,
                                        self.object_type, self.object_id, self.area_code, self.ip, self.result,
                                        details, self.chain, payload])  # fmt: skip
                self.pk, self.prev_hash, self.hash = cur.fetchone()
            else:
                cur.execute(TAIL, [self.chain])
                row = cur.fetchone()
                self.prev_hash = row[0] if row else GENESIS
                self.hash = chain_hash(self.prev_hash, payload)
                cur.execute(APPEND, [conn.ops.adapt_datetimefield_value(self.at), self.actor_id, self.actor_name,
                                     self.action, self.object_type, self.object_id, self.area_code, self.ip,
                                     self.result, details, self.chain, self.prev_hash, self.hash])  # fmt: skip
                self.pk = cur.fetchone()[0]
        self._state.adding = False
        self._state.db = using


GENESIS = "0" * 64
CHAINS = 64  # parallel hash chains (ADR 0008); rows from before the chains are all chain 0
PG_LOCK_KEY = 0x58_5A_41_55  # "XZAU": pg_advisory_xact_lock(PG_LOCK_KEY, chain) guards one chain's tail
# the preferred chain if free, else the next free one: try-locks never wait, so an append
# waits for another only when all CHAINS are taken; a chain this transaction already holds
# counts as free (advisory locks are re-entrant)
LOCK_CHAIN_PG = (
    "SELECT c FROM (SELECT (%s + g) %% %s AS c FROM generate_series(0, %s) AS g) AS s"
    " WHERE pg_try_advisory_xact_lock(%s, c) LIMIT 1"
)
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
TAIL = "SELECT hash FROM audit_auditevent WHERE chain = %s ORDER BY id DESC LIMIT 1"
APPEND = (
    "INSERT INTO audit_auditevent (at, actor_id, actor_name, action, object_type, object_id, area_code, ip, result,"
    " details, chain, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
# reads the tail itself, i.e. after the chain's lock was taken by an earlier statement (a
# statement sees what was committed when it started), and hashes like chain_hash()
APPEND_PG = (
    "WITH t AS (SELECT COALESCE((SELECT hash FROM audit_auditevent WHERE chain = %s ORDER BY id DESC LIMIT 1), %s)"
    " AS h) INSERT INTO audit_auditevent (at, actor_id, actor_name, action, object_type, object_id, area_code, ip,"
    " result, details, chain, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s,"
    " (SELECT h FROM t), encode(sha256(convert_to((SELECT h FROM t) || %s, 'UTF8')), 'hex'))"
    " RETURNING id, prev_hash, hash"
)


def canonical(value) -> str:
    """Compact JSON, keys sorted, non-ASCII as is, anything else as str: what is hashed."""
    return _ENCODER.encode(value)


def payload(*, at: datetime, actor_id, actor_name, action, object_type, object_id, area_code, ip, result,
            details) -> str:
    """The canonical JSON of an event that its hash covers (everything but chain and hashes)."""
    return canonical(
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


def event_payload(ev: AuditEvent) -> str:
    return payload(at=ev.at, actor_id=ev.actor_id, actor_name=ev.actor_name, action=ev.action,
                   object_type=ev.object_type, object_id=ev.object_id, area_code=ev.area_code, ip=ev.ip,
                   result=ev.result, details=ev.details)  # fmt: skip


def chain_hash(prev_hash: str, event_payload: str) -> str:
    return hashlib.sha256((prev_hash + event_payload).encode("utf-8")).hexdigest()
