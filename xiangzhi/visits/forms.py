"""Forms of the field-work pages. They shape and bound the input; the rules (future date,
households outside the area, whose visit it may be) live in ``services.visit_log`` and come
back as field messages."""

from __future__ import annotations

import re

from django import forms

from xiangzhi.cadres.forms import TablerForm, apply_service_errors, choice, date_field
from xiangzhi.core import periods

from .models import ContactKind, VisitKind
from .services import MAX_HOUSEHOLDS, MAX_PROBLEMS

CLIENT_ID = re.compile(r"^[A-Za-z0-9-]{8,40}$")
KIND_HELP = {
    ContactKind.HEART_LINK: "连心工程：干部与农户结对，定期上门，了解急难愁盼、帮办实事。",
    ContactKind.FOUR_LINKS: "四联四帮：联系困难户、重点户，帮思想、帮政策、帮技术、帮销路（在“帮扶内容”中写明）。",
    ContactKind.BENCH_MEETING: "板凳会：干部联系一个村民小组，坐下来拉家常、听意见。",
}

__all__ = ["VisitForm", "ContactForm", "BenchForm", "apply_service_errors", "KIND_HELP"]


def area_options(areas: list[dict], blank: str) -> list:
    return [("", blank)] + [(a["code"], f"{a.get('indent', '')}{a['label']}") for a in areas]


class VisitForm(TablerForm):
    cadre = choice("走访干部", [], required=False)
    visited_on = date_field("走访日期")
    kind = choice("方式", VisitKind.choices, widget=forms.RadioSelect)
    area_code = choice("地点（村/网格）", [], required=False)
    group_name = forms.CharField(
        label="村民小组",
        max_length=50,
        required=False,
        error_messages={"max_length": "村民小组名称过长（最多 50 个字）"},
    )
    attendees = forms.IntegerField(
        label="参加人数",
        required=False,
        min_value=0,
        max_value=1000,
        error_messages={
            "invalid": "参加人数应为整数",
            "min_value": "参加人数不能为负数",
            "max_value": "参加人数最多 1000",
        },
    )
    summary = forms.CharField(
        label="走访内容",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写走访内容", "max_length": "走访内容过长（最多 5000 字）"},
    )
    latitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    client_id = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    def __init__(self, *args, cadres: list | None = None, areas: list[dict], own_cadre: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if cadres:
            self.fields["cadre"].choices = [("", "请选择走访干部")] + [(str(pk), label) for pk, label in cadres]
            self.fields["cadre"].required = not own_cadre  # blank: the user's own cadre
        else:
            del self.fields["cadre"]
        self.fields["area_code"].choices = area_options(areas, "按所选农户")
        if len(areas) == 1 and not self.is_bound:  # a grid worker's 板凳会 is in their grid
            self.initial.setdefault("area_code", areas[0]["code"])
        self.fields["visited_on"].widget.attrs["max"] = periods.local_today().isoformat()
        self.fields["summary"].widget.attrs.update(
            placeholder="了解到的情况、宣讲的政策、办的事……", enterkeyhint="next"
        )
        self.fields["group_name"].widget.attrs.update(list="group-names", autocomplete="off", placeholder="如 刘冲一组")
        self.fields["attendees"].widget.attrs.update(inputmode="numeric")

    def clean_client_id(self):
        value = (self.cleaned_data.get("client_id") or "").strip()
        return value if CLIENT_ID.match(value) else ""


def household_ids(data, limit: int = MAX_HOUSEHOLDS) -> list[int]:
    """The picked households (``households`` repeated), de-duplicated, bounded."""
    out: list[int] = []
    for raw in data.getlist("households")[: limit + 1]:
        try:
            pk = int(str(raw).strip())
        except (TypeError, ValueError):
            continue
        if 0 < pk < 2**63 and pk not in out:
            out.append(pk)
    return out


def problem_texts(data) -> list[str]:
    return [t.strip()[:1000] for t in data.getlist("problems")[: MAX_PROBLEMS + 1] if t and t.strip()]


class ContactForm(TablerForm):
    cadre = choice("干部", [])
    kind = choice(
        "类型",
        [(k, ContactKind(k).label) for k in (ContactKind.HEART_LINK, ContactKind.FOUR_LINKS)],
        widget=forms.RadioSelect,
    )
    household = forms.IntegerField(
        widget=forms.HiddenInput, error_messages={"required": "请选择联系户", "invalid": "请选择联系户"}
    )
    help = forms.CharField(
        label="帮扶内容", max_length=300, required=False, error_messages={"max_length": "帮扶内容过长（最多 300 个字）"}
    )
    start = date_field("开始日期")

    def __init__(self, *args, cadres: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].choices = [("", "请选择干部")] + [(str(pk), label) for pk, label in cadres]
        self.fields["cadre"].widget.attrs["data-xz-tom"] = "1"
        self.fields["kind"].help_text = " ".join(KIND_HELP[k] for k in (ContactKind.HEART_LINK, ContactKind.FOUR_LINKS))
        self.fields["help"].widget.attrs["placeholder"] = "如 帮销路：联系收购茶叶"


class BenchForm(TablerForm):
    cadre = choice("干部", [])
    village = choice("村", [])
    group_name = forms.CharField(
        label="村民小组", max_length=50, error_messages={"required": "请填写村民小组", "max_length": "村民小组名称过长"}
    )
    start = date_field("开始日期")

    def __init__(self, *args, cadres: list, villages: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].choices = [("", "请选择干部")] + [(str(pk), label) for pk, label in cadres]
        self.fields["cadre"].widget.attrs["data-xz-tom"] = "1"
        self.fields["village"].choices = area_options(villages, "请选择村")
        self.fields["group_name"].help_text = KIND_HELP[ContactKind.BENCH_MEETING]
