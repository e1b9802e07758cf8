"""One case engine for petitions (信访), disputes (矛盾纠纷) and urgent needs (急难愁盼).

A case belongs to the area where it arose (属地): ``area_code`` is its grid or village.
``level`` is who handles it now (grid → village → township). Every transition appends a
``CaseEvent`` (the timeline) — see workflow.py for the table."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from xiangzhi.core.scoping import RestrictedManager

from .choices import (
    Channel,
    Kind,
    Level,
    MediationResult,
    MeetingKind,
    PartyRole,
    Satisfaction,
    Status,
    Supervision,
)

USER = settings.AUTH_USER_MODEL


class Category(models.Model):
    """Configurable category tree. ``township_code`` blank = the default set every township
    sees; a township may add its own."""

    code = models.CharField("编码", max_length=40)
    name = models.CharField("名称", max_length=50)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    township_code = models.CharField("所属乡镇", max_length=9, blank=True)
    sort = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "事项分类"
        ordering = ["sort", "code"]
        constraints = [models.UniqueConstraint(fields=["township_code", "code"], name="category_code_unique")]

    def __str__(self):
        return f"{self.parent.name}/{self.name}" if self.parent_id and self.parent else self.name


class DeadlinePolicy(models.Model):
    """Per-township time limit of one level for disputes and needs (defaults in
    deadlines.DEFAULT_LIMITS when no row exists)."""

    township_code = models.CharField("乡镇", max_length=9)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    days = models.PositiveSmallIntegerField("时限（天）")
    working_days = models.BooleanField("按工作日计", default=False)
    yellow_share = models.DecimalField("黄色预警（已用时限比例）", max_digits=3, decimal_places=2, default=0.7)

    class Meta:
        verbose_name = "办理时限"
        constraints = [
            models.UniqueConstraint(fields=["township_code", "kind", "level"], name="deadline_policy_unique"),
            models.CheckConstraint(condition=models.Q(days__gte=1, days__lte=365), name="deadline_days_range"),
        ]

    def __str__(self):
        return f"{self.township_code} {self.kind} {self.level} {self.days}"


class Case(models.Model):
    area_code = models.CharField("属地", max_length=15)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    channel = models.CharField("来源渠道", max_length=12, choices=Channel.choices)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, verbose_name="分类")
    title = models.CharField("事项标题", max_length=100)
    description = models.TextField("诉求内容", max_length=5000)
    tracking_code = models.CharField("查询码", max_length=12, unique=True)
    household = models.ForeignKey(
        "residents.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone_enc = models.BinaryField(null=True, blank=True)
    contact_phone_last4_hash = models.CharField(max_length=32, blank=True)

    status = models.CharField("状态", max_length=14, choices=Status.choices, default=Status.REGISTERED)
    level = models.CharField("办理层级", max_length=10, choices=Level.choices, default=Level.GRID)
    accepted_level = models.CharField("受理层级", max_length=10, choices=Level.choices, blank=True)
    supervision = models.CharField("督办", max_length=8, choices=Supervision.choices, default=Supervision.NORMAL)

    received_at = models.DateTimeField("收到时间")
    accept_due_at = models.DateTimeField("受理期限", null=True, blank=True)
    accepted_at = models.DateTimeField("受理时间", null=True, blank=True)
    level_since = models.DateTimeField("进入本级时间", null=True, blank=True)
    level_due_at = models.DateTimeField("本级时限", null=True, blank=True)
    due_at = models.DateTimeField("办结期限", null=True, blank=True)
    yellow_at = models.DateTimeField("黄色预警时间", null=True, blank=True)
    extension_days = models.PositiveSmallIntegerField("已延期（天）", default=0)

    lead = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="lead_cases",
                             verbose_name="包案领导")
    handler = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="handled_cases",
                                verbose_name="承办人")
    first_responsible = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="first_responsible_cases", verbose_name="第一责任人")
    responsibility = models.TextField("责任", max_length=2000, blank=True)
    plan = models.TextField("化解方案", max_length=5000, blank=True)

    escalation_count = models.PositiveSmallIntegerField(default=0)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    resolution = models.TextField("办理结果", max_length=5000, blank=True)
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices, blank=True)
    skip_level = models.BooleanField("越级访", default=False)
    related_case = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="repeats", verbose_name="关联事项（重复访）")
    source = models.CharField("来源对象", max_length=40, blank=True)  # e.g. "visits.visit:12"
    idempotency_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    own_lookup = "household__members__user"

    class Meta:
        verbose_name = "事项"
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["area_code", "status", "due_at"], name="case_area_status_due"),
            models.Index(fields=["area_code", "received_at"], name="case_area_received"),
            models.Index(fields=["area_code", "closed_at"], name="case_area_closed"),
            models.Index(fields=["handler", "status"], name="case_handler_status"),
            models.Index(fields=["lead", "status"], name="case_lead_status"),
            models.Index(fields=["status", "level_due_at"], name="case_status_level_due"),
            # work queues (我的待办, open/overdue filters): open statuses first, then the area range —
            # the queue reads only a township's open cases instead of all its cases (benchmarks/cases.py)
            models.Index(fields=["status", "area_code", "due_at"], name="case_status_area_due"),
        ]

    def __str__(self):
        return f"{self.tracking_code} {self.title}"


class CaseParty(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    resident = models.ForeignKey("residents.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="case_parties")
    name = models.CharField("姓名/名称", max_length=100)
    role = models.CharField("身份", max_length=12, choices=PartyRole.choices, default=PartyRole.APPLICANT)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "当事人"
        indexes = [models.Index(fields=["resident"], name="caseparty_resident")]

    def __str__(self):
        return self.name


class CaseEvent(models.Model):
    """The timeline: one row per transition or recorded step. Append-only."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=30)
    from_status = models.CharField(max_length=14, blank=True)
    to_status = models.CharField(max_length=14, blank=True)
    from_level = models.CharField(max_length=10, blank=True)
    to_level = models.CharField(max_length=10, blank=True)
    note = models.TextField(blank=True)
    public = models.BooleanField("对当事人可见", default=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "办理记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.case_id} {self.action}"


class Meeting(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField("会议类型", max_length=16, choices=MeetingKind.choices)
    held_at = models.DateTimeField("时间")
    place = models.CharField("地点", max_length=100)
    participants = models.TextField("参加人员", max_length=2000)
    minutes = models.TextField("会议纪要", max_length=10000, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "会议"
        ordering = ["held_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.held_at:%Y-%m-%d}"


class Mediation(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="mediations")
    held_at = models.DateTimeField("调解时间")
    place = models.CharField("地点", max_length=100, blank=True)
    mediators = models.ManyToManyField(USER, blank=True, related_name="mediations", verbose_name="调解员")
    mediator_names = models.CharField("调解员（姓名）", max_length=200, blank=True)
    result = models.CharField("结果", max_length=8, choices=MediationResult.choices)
    facts = models.TextField("纠纷事实", max_length=5000, blank=True)
    terms = models.TextField("协议内容", max_length=5000, blank=True)
    agreement_no = models.CharField("协议编号", max_length=40, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "调解"
        ordering = ["held_at"]

    def __str__(self):
        return f"{self.case_id} {self.get_result_display()}"


class FollowUp(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    at = models.DateTimeField()
    satisfaction = models.CharField("满意度", max_length=12, choices=Satisfaction.choices)
    note = models.TextField("回访记录", max_length=2000, blank=True)
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "回访"
        ordering = ["at"]

    def __str__(self):
        return f"{self.case_id} {self.satisfaction}"


class SkipLevelRecord(models.Model):
    """A petitioner went above the township (越级访): when and where."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="skip_levels")
    area_code = models.CharField(max_length=15)
    occurred_on = models.DateField("日期")
    destination = models.CharField("去向（县/市/省/京）", max_length=100)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "越级访记录"
        indexes = [models.Index(fields=["area_code", "occurred_on"], name="skiplevel_area_date")]

    def __str__(self):
        return f"{self.occurred_on} {self.destination}"


class Attachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="cases/%Y/%m/")
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "附件"

    def __str__(self):
        return self.name
