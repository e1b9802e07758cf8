from django.conf import settings
from django.db import models


class CalendarDay(models.Model):
    """An official day off or make-up working day (节假日 / 调休上班) entered by staff for a
    year the shipped holiday data (chinese-calendar) does not cover yet — the State Council
    publishes each year's schedule late in the year before. It takes precedence over the
    shipped data (``core.periods.is_workday``)."""

    day = models.DateField("日期", primary_key=True)
    is_workday = models.BooleanField("上班")
    name = models.CharField("名称", max_length=30, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "工作日历调整"
        ordering = ["day"]

    def __str__(self):
        return f"{self.day} {'上班' if self.is_workday else '放假'} {self.name}".strip()
