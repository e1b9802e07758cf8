"""The cadre roster (镇村干部花名册) with the history of every post, and the growth records
of young cadres (四个一, 业务大讲堂, 承诺践诺, 结对子, 挂职), commendations and criticism."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from xiangzhi.core.scoping import RestrictedManager

from .choices import CadreLevel, Education, Establishment, FourOnesKind, Honorary, RecognitionKind, RecognitionTarget

USER = settings.AUTH_USER_MODEL


class Cadre(models.Model):
    area_code = models.CharField("所在单位", max_length=12)  # township (9) or village (12)
    level = models.CharField("层级", max_length=10, choices=CadreLevel.choices)
    name = models.CharField("姓名", max_length=50)
    sex = models.CharField("性别", max_length=6, choices=[("male", "男"), ("female", "女")])
    birth_date = models.DateField("出生日期")
    education = models.CharField("学历", max_length=16, choices=Education.choices)
    college_graduate = models.BooleanField("全日制大学生", default=False)
    party_member = models.BooleanField("中共党员", default=False)
    establishment = models.CharField("编制", max_length=20, choices=Establishment.choices)
    resident = models.ForeignKey("residents.Resident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="cadre_records")
    user = models.OneToOneField(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="cadre")
    joined_on = models.DateField("参加工作时间", null=True, blank=True)
    left_on = models.DateField("离任时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "干部"
        ordering = ["area_code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["area_code", "name", "birth_date"], name="cadre_natural_key"),
        ]
        indexes = [models.Index(fields=["area_code", "level"], name="cadre_area_level")]

    def __str__(self):
        return self.name


class Post(models.Model):
    """One post held by a cadre from ``start`` to ``end`` (None = still held): the roster's
    history. "Who served on date d" is ``start <= d < end``."""

    cadre = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="posts")
    area_code = models.CharField("任职单位", max_length=12)
    title = models.CharField("职务", max_length=50)
    leadership = models.BooleanField("班子成员", default=False)
    is_secretary = models.BooleanField("党组织书记", default=False)
    is_director = models.BooleanField("村（居）委会主任", default=False)
    honorary = models.CharField("名誉职务", max_length=20, choices=Honorary.choices, blank=True, default="")
    start = models.DateField("任职时间")
    end = models.DateField("离任时间", null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "任职"
        ordering = ["-start"]
        indexes = [models.Index(fields=["area_code", "start", "end"], name="post_area_dates")]
        constraints = [models.CheckConstraint(condition=Q(end__isnull=True) | Q(end__gt=models.F("start")),
                                              name="post_end_after_start")]

    def __str__(self):
        return f"{self.cadre} {self.title}"


class FourOnes(models.Model):
    """One item of a young cadre's yearly 四个一."""

    cadre = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="four_ones")
    year = models.PositiveSmallIntegerField("年度")
    kind = models.CharField("项目", max_length=12, choices=FourOnesKind.choices)
    done_on = models.DateField("完成日期")
    title = models.CharField("内容/题目", max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "四个一"
        indexes = [models.Index(fields=["cadre", "year", "kind"], name="fourones_cadre_year")]

    def __str__(self):
        return f"{self.cadre} {self.year} {self.kind}"


class Lecture(models.Model):
    """业务大讲堂."""

    area_code = models.CharField(max_length=12)
    held_on = models.DateField("日期")
    speaker = models.CharField("主讲人", max_length=50)
    topic = models.CharField("主题", max_length=200)
    attendees = models.ManyToManyField(Cadre, blank=True, related_name="lectures")

    objects = RestrictedManager()

    class Meta:
        verbose_name = "业务大讲堂"
        ordering = ["-held_on"]

    def __str__(self):
        return self.topic


class Commitment(models.Model):
    """承诺践诺."""

    cadre = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="commitments")
    promise = models.CharField("承诺事项", max_length=500)
    deadline = models.DateField("承诺期限")
    fulfilled_on = models.DateField("践诺日期", null=True, blank=True)
    note = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = "承诺践诺"
        ordering = ["deadline"]

    def __str__(self):
        return self.promise


class Mentorship(models.Model):
    """结对子 (老带新)."""

    mentor = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="mentees")
    mentee = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="mentors")
    start = models.DateField("开始")
    end = models.DateField("结束", null=True, blank=True)
    notes = models.TextField("帮带记录", blank=True)

    class Meta:
        verbose_name = "结对帮带"

    def __str__(self):
        return f"{self.mentor}→{self.mentee}"


class Secondment(models.Model):
    """挂职."""

    cadre = models.ForeignKey(Cadre, on_delete=models.CASCADE, related_name="secondments")
    to_where = models.CharField("挂职单位", max_length=100)
    post = models.CharField("挂职职务", max_length=50, blank=True)
    start = models.DateField("开始")
    end = models.DateField("结束")

    class Meta:
        verbose_name = "挂职"
        constraints = [models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="secondment_dates")]

    def __str__(self):
        return f"{self.cadre} {self.to_where}"


class Recognition(models.Model):
    """通报批评 / 表扬 / 荣誉 of a cadre or a unit."""

    area_code = models.CharField("所属乡镇/村", max_length=12)
    kind = models.CharField("类型", max_length=14, choices=RecognitionKind.choices)
    target = models.CharField("对象", max_length=8, choices=RecognitionTarget.choices)
    cadre = models.ForeignKey(Cadre, null=True, blank=True, on_delete=models.PROTECT, related_name="recognitions")
    unit_name = models.CharField("单位名称", max_length=100, blank=True)
    title = models.CharField("荣誉称号", max_length=50, blank=True)  # 最美公务员, 最美村干部…
    issued_on = models.DateField("日期")
    issuer = models.CharField("发文单位", max_length=100)
    document_no = models.CharField("文号", max_length=50, blank=True)
    reason = models.CharField("事由", max_length=500)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = RestrictedManager()

    class Meta:
        verbose_name = "表扬与批评"
        ordering = ["-issued_on"]
        indexes = [models.Index(fields=["area_code", "issued_on", "kind"], name="recognition_area_date")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(target="cadre") & Q(cadre__isnull=False)) | (Q(target="unit") & ~Q(unit_name="")),
                name="recognition_target_filled",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.cadre or self.unit_name}"


__all__ = ["Cadre", "Post", "FourOnes", "Lecture", "Commitment", "Mentorship", "Secondment", "Recognition",
           "FourOnesKind"]
