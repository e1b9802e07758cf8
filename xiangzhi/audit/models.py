from __future__ import annotations

from django.conf import settings
from django.db import connections, models

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
        """A new row is appended with one plain ``INSERT … RETURNING id`` of the values
        ``audit.record`` computed (no ORM insert machinery, no signals: this is on the
        path of every audited write). Existing rows are never saved again (the
        database refuses it)."""
        if not self._state.adding or self.pk is not None:
            return super().save(*args, using=using, **kwargs)
        using = using or "default"
        conn = connections[using]
        with conn.cursor() as cur:
            cur.execute(_INSERT_SQL, [
                conn.ops.adapt_datetimefield_value(self.at), self.actor_id, self.actor_name, self.action,
                self.object_type, self.object_id, self.area_code, self.ip, self.result, self.details_json,
                self.chain, self.prev_hash, self.hash,
            ])  # fmt: skip
            self.pk = cur.fetchone()[0]
        self._state.adding = False
        self._state.db = using

    @property
    def details_json(self) -> str:
        """The details as stored: the canonical JSON ``audit.record`` built, else dumped."""
        cached = self.__dict__.get("_details_json")
        if cached is not None:
            return cached
        import json

        return json.dumps(self.details, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


_INSERT_SQL = (
    "INSERT INTO audit_auditevent (at, actor_id, actor_name, action, object_type, object_id, area_code, ip, result,"
    " details, chain, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
)
