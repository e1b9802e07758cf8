"""Search form of the audit log page."""

from __future__ import annotations

from datetime import date

from django import forms

from xiangzhi.accounts.forms import TablerForm
from xiangzhi.core.text import clean_text

from .selectors import Filters

MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2099, 12, 31)


class EventFilterForm(TablerForm):
    date_from = forms.DateField(
        label="开始日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效日期，如 2026-01-31"},
    )
    date_to = forms.DateField(
        label="结束日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效日期，如 2026-01-31"},
    )
    action = forms.CharField(
        label="动作",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"list": "audit-actions"}),
        help_text="可填前缀，如 auth. 查全部登录类记录",
        error_messages={"max_length": "动作最多 64 个字符"},
    )
    actor = forms.CharField(
        label="操作人用户名", required=False, max_length=150, error_messages={"max_length": "用户名最多 150 个字符"}
    )
    area = forms.RegexField(
        label="区域代码",
        required=False,
        regex=r"^[0-9]{1,15}$",
        max_length=15,
        error_messages={"invalid": "区域代码应为 1–15 位数字", "max_length": "区域代码最多 15 位"},
    )

    def clean_action(self):
        return clean_text(self.cleaned_data.get("action"))

    def clean_actor(self):
        return clean_text(self.cleaned_data.get("actor"))

    def _clean_day(self, name):
        day = self.cleaned_data.get(name)
        if day and not (MIN_DAY <= day <= MAX_DAY):
            raise forms.ValidationError(f"日期应在 {MIN_DAY:%Y-%m-%d} 至 {MAX_DAY:%Y-%m-%d} 之间")
        return day

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self):
        data = super().clean()
        d1, d2 = data.get("date_from"), data.get("date_to")
        if d1 and d2 and d1 > d2:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return data

    def filters(self) -> Filters:
        d = self.cleaned_data
        return Filters(
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            action=d.get("action") or "",
            actor=d.get("actor") or "",
            area=d.get("area") or "",
        )
