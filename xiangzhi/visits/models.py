"""连心工程 / 四联四帮 / 板凳会: who is linked to which households or villager groups, the
visits they make, and the problems found — each of which can become a ``need`` case, so
"problems solved" is counted from the cases engine."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from xiangzhi.core.scoping import RestrictedManager

USER = settings.AUTH_USER_MODEL


class ContactKind(models.TextChoices):
    HEART_LINK = "heart_link", "连心工程"
    FOUR_LINKS = "four_links", "四联四帮"
    BENCH_MEETING = "bench_meeting", "板凳会"


class VisitKind(models.TextChoices):
    VISIT = "visit", "入户走访"
    BENCH_MEETING = "bench_meeting", "板凳会"
    HELP = "help", "帮扶"


class ContactAssignment(models.Model):
    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField("类型", max_length=14, choices=ContactKind.choices)
    household = models.ForeignKey(
        "residents.Household", null=True, blank=True, on_delete=models.CASCADE, related_name="contacts"
    )
    group_name = models.CharField("村民小组", max_length=50, blank=True)
    area_code = models.CharField(max_length=15)
    help = models.CharField("帮扶内容", max_length=300, blank=True)
    start = models.DateField("开始")
    end = models.DateField("结束", null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "联系户"
        indexes = [
            models.Index(fields=["area_code", "kind"], name="contact_area_kind"),
            # coverage: the households linked in an area on a day, from the index alone
            models.Index(fields=["area_code", "household", "start", "end"], name="contact_area_household"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(household__isnull=False) | ~Q(group_name=""), name="contact_household_or_group"
            ),
        ]

    def __str__(self):
        return f"{self.cadre} → {self.household or self.group_name}"


class Visit(models.Model):
    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.PROTECT, related_name="visits")
    area_code = models.CharField("地点", max_length=15)
    visited_on = models.DateField("日期")
    kind = models.CharField("方式", max_length=14, choices=VisitKind.choices, default=VisitKind.VISIT)
    households = models.ManyToManyField("residents.Household", blank=True, related_name="visits")
    group_name = models.CharField("村民小组", max_length=50, blank=True)
    attendees = models.PositiveSmallIntegerField("参加人数", default=0)
    summary = models.TextField("走访内容", max_length=5000)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    client_id = models.CharField(max_length=64, null=True, blank=True, unique=True)  # offline draft id
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "走访记录"
        ordering = ["-visited_on", "-id"]
        indexes = [
            # visit counts and 板凳会 attendees of an area and period, from the index alone
            models.Index(fields=["area_code", "visited_on", "kind", "attendees"], name="visit_area_date_kind"),
            models.Index(fields=["cadre", "visited_on"], name="visit_cadre_date"),
        ]

    def __str__(self):
        return f"{self.cadre} {self.visited_on}"


class VisitHousehold(models.Model):
    """Denormalised (visit, household, date, area) rows: coverage maths is a GROUP BY over
    this one indexed table instead of a join through the M2M."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="household_rows")
    household = models.ForeignKey("residents.Household", on_delete=models.CASCADE, related_name="+")
    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="+")
    area_code = models.CharField(max_length=15)
    visited_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "household"], name="visithousehold_once")]
        indexes = [
            models.Index(fields=["area_code", "visited_on", "household"], name="vh_area_date_household"),
            models.Index(fields=["household", "visited_on"], name="vh_household_date"),
        ]

    def __str__(self):
        return f"{self.visit_id}:{self.household_id}"


class VisitPhoto(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="visits/%Y/%m/")
    content_type = models.CharField(max_length=50)
    size = models.PositiveIntegerField()

    def __str__(self):
        return self.file.name


class Problem(models.Model):
    """A problem found on a visit (急难愁盼). One tap turns it into a ``need`` case."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="problems")
    area_code = models.CharField(max_length=15)
    household = models.ForeignKey(
        "residents.Household", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField("问题", max_length=1000)
    case = models.OneToOneField(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="visit_problem"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "走访发现问题"
        indexes = [models.Index(fields=["area_code", "created_at"], name="problem_area_created")]

    def __str__(self):
        return self.description[:30]
