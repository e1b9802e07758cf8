from __future__ import annotations

from django.conf import settings
from django.db import models

from xiangzhi.core.scoping import RestrictedManager


class AuditEvent(models.Model):
    """Append-only, hash-chained record of who did what, where, when.

    Rows are never updated or deleted: database triggers refuse it (SQLite and
    PostgreSQL), and ``verify_audit_chain`` recomputes every hash.
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
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"
