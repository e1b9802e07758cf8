"""一户一档: households and the people in them. ID numbers and phones are stored only
encrypted (AES-GCM) plus HMAC blind indexes; see docs/security.md."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xiangzhi.core.scoping import RestrictedManager, RestrictedQuerySet, scopes_for

from .choices import ALL_TAGS, Relation, ResidentStatus, Sex, tags_from_db


class Household(models.Model):
    area_code = models.CharField("所属网格/村", max_length=15)
    village_code = models.CharField("所属村", max_length=12)
    number = models.CharField("户号", max_length=32, blank=True)
    address = models.CharField("住址", max_length=200, blank=True)
    head = models.ForeignKey(
        "Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name="户主"
    )
    head_name = models.CharField("户主姓名", max_length=50, blank=True)
    member_count = models.PositiveSmallIntegerField("人口数", default=0)
    tags = models.CharField("户标签", max_length=300, blank=True)
    note = models.CharField("备注", max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    own_lookup = "members__user"

    class Meta:
        verbose_name = "户"
        ordering = ["area_code", "number", "id"]
        indexes = [
            models.Index(fields=["area_code", "number", "id"], name="household_area_number"),
            models.Index(fields=["number"], name="household_number"),  # search by 户号 (residents.selectors)
            models.Index(fields=["tags"], name="household_tags"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["village_code", "number"], condition=~models.Q(number=""), name="household_number_unique"
            )
        ]

    def __str__(self):
        return f"{self.head_name or '（未设户主）'}户" + (f"（{self.number}）" if self.number else "")

    @property
    def tag_list(self):
        return [(c, ALL_TAGS.get(c, c)) for c in tags_from_db(self.tags)]


class Resident(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="members", verbose_name="户")
    area_code = models.CharField("所属网格/村", max_length=15)
    name = models.CharField("姓名", max_length=50)
    name_pinyin = models.CharField("姓名拼音", max_length=120, blank=True)
    name_initials = models.CharField("拼音首字母", max_length=20, blank=True)
    relation = models.CharField("与户主关系", max_length=20, choices=Relation.choices, default=Relation.OTHER)
    sex = models.CharField("性别", max_length=6, choices=Sex.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True)
    id_number_enc = models.BinaryField("身份证号（密文）", null=True, blank=True)
    id_number_hash = models.CharField(max_length=32, null=True, blank=True, unique=True)
    id_last4_hash = models.CharField(max_length=32, blank=True)
    phone_enc = models.BinaryField("电话（密文）", null=True, blank=True)
    phone_hash = models.CharField(max_length=32, blank=True, db_index=True)
    tags = models.CharField("人员标签", max_length=300, blank=True)
    status = models.CharField("状态", max_length=12, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="resident"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    own_lookup = "household__members__user"

    class Meta:
        verbose_name = "居民"
        ordering = ["household_id", "id"]
        permissions = [("reveal_resident", "查看完整身份证号和电话")]
        indexes = [
            models.Index(fields=["area_code", "id_last4_hash"], name="resident_area_last4"),
            models.Index(fields=["area_code", "household"], name="resident_area_household"),
        ]

    def __str__(self):
        return self.name

    @property
    def tag_list(self):
        return [(c, ALL_TAGS.get(c, c)) for c in tags_from_db(self.tags)]


class SearchKey(models.Model):
    """Prefix search keys of a resident's name: 汉字, full pinyin and initials (all readings
    of polyphonic characters), and the given name. ``key >= q AND key < q+'\\uffff'`` is an
    index range scan, so search cost does not grow with the registry."""

    # no index of its own: the unique (resident, key) constraint leads with it
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="search_keys", db_index=False)
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")
    area_code = models.CharField(max_length=15)
    township = models.CharField(max_length=9, default="")
    key = models.CharField(max_length=60)

    class Meta:
        indexes = [
            # every search is an equality on township (a county's: its list of townships) + a
            # key range. No index leads with the key alone: spread over the whole county it
            # made each imported key a visit to a random page (ADR 0011)
            models.Index(fields=["township", "key"], name="searchkey_township_key"),
        ]
        constraints = [models.UniqueConstraint(fields=["resident", "key"], name="searchkey_unique")]

    def __str__(self):
        return self.key


class ImportJobQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = "import"):
        """Jobs in the areas where the user holds ``residents.<action>_household``."""
        areas, _ = scopes_for(user, f"residents.{action}_household")
        q = models.Q()
        for prefix in areas:
            q |= models.Q(area_code__startswith=prefix)
        return self.filter(q) if areas else self.none()


class ImportJob(models.Model):
    """One uploaded roster file and its import run (inline or in the task worker). The
    stored file lives under settings.UPLOAD_DIR (outside the web root) until the run ends."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "未导入"

    area_code = models.CharField("导入到", max_length=15)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="上传人"
    )
    file_name = models.CharField("文件名", max_length=255)
    stored_path = models.CharField("存储路径", max_length=500, blank=True)
    file_sha256 = models.CharField("文件 SHA-256", max_length=64, blank=True)
    file_size = models.PositiveBigIntegerField("文件大小", default=0)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    households_created = models.PositiveIntegerField("新增户数", default=0)
    residents_created = models.PositiveIntegerField("新增人数", default=0)
    households_updated = models.PositiveIntegerField("更新户数", default=0)
    residents_updated = models.PositiveIntegerField("更新人数", default=0)
    error_count = models.PositiveIntegerField("错误数", default=0)
    errors = models.JSONField("错误明细", default=list, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    background = models.BooleanField("后台执行", default=False)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    objects = models.Manager.from_queryset(ImportJobQuerySet)()

    class Meta:
        verbose_name = "户籍导入任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area_code", "created_at"], name="importjob_area_created")]

    def __str__(self):
        return self.file_name

    @property
    def created_count(self) -> int:
        return self.households_created + self.residents_created

    @property
    def updated_count(self) -> int:
        return self.households_updated + self.residents_updated

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
