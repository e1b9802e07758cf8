from __future__ import annotations

from django.conf import settings
from django.db import models

from xiangzhi.core.scoping import RestrictedManager

from .roles import ROLE_CHOICES


class Level(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    COUNTY = "county", "县"
    TOWNSHIP = "township", "乡镇"
    VILLAGE = "village", "村（社区）"
    GRID = "grid", "网格"


CODE_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12, "grid": 15}
LEVEL_BY_LENGTH = {v: k for k, v in CODE_LENGTH.items()}


class Region(models.Model):
    """One node of the division tree. ``code`` is the statistics-bureau code cut to its
    significant length (34 / 3415 / 341524 / 341524111 / 341524111206), so that "inside"
    is a prefix test. Grids are local: village code + 3 digits."""

    code = models.CharField("区划代码", max_length=15, primary_key=True)
    name = models.CharField("名称", max_length=100)
    official_name = models.CharField("统计用名称", max_length=100, blank=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", db_column="parent_code"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    area_field = "code"

    class Meta:
        verbose_name = "行政区划"
        ordering = ["code"]
        indexes = [models.Index(fields=["parent", "code"], name="region_parent_code")]

    def __str__(self):
        return self.name

    @property
    def area_code(self) -> str:
        return self.code

    @property
    def full_code(self) -> str:
        """The 12-digit official form (grids keep their 15 digits)."""
        return self.code if len(self.code) >= 12 else self.code.ljust(12, "0")


class Assignment(models.Model):
    """A user holds a role over an area. A user may hold several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    area_code = models.CharField("区域代码", max_length=15)
    role = models.CharField("角色", max_length=32, choices=ROLE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = "岗位分配"
        constraints = [models.UniqueConstraint(fields=["user", "area_code", "role"], name="assignment_unique")]
        indexes = [models.Index(fields=["area_code", "role"], name="assignment_area_role")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.area_code}"
