"""Forms of the points pages. They shape and bound the input and give Chinese field
messages; every rule that matters (votes, caps, retired rules, balances, stock, publicity
periods, permissions) lives in ``services`` / ``shop`` / ``ledger`` and comes back as a
``ValidationError`` that ``apply_service_errors`` puts on the fields."""

from __future__ import annotations

import re
import secrets

from django import forms
from django.core.exceptions import ValidationError

from xiangzhi.core import periods

from .choices import RULE_CATEGORIES, CapPeriod, Feeds, SubjectKind

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_RULE_LINES = 200


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _long(label: str, limit: int) -> dict:
    return {"max_length": f"{label}过长（最多 {limit} 个字）"}


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_service_errors(form: forms.Form, exc: ValidationError, field_map: dict | None = None) -> None:
    """A service's ValidationError onto the form: keys naming a field go there (through
    ``field_map`` when the service calls it differently), the rest are non-field errors."""
    field_map = field_map or {}
    if hasattr(exc, "error_dict"):
        for key, messages in exc.message_dict.items():
            name = field_map.get(key, key)
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


def error_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(m for ms in exc.message_dict.values() for m in ms)
    return "；".join(exc.messages)


class TablerForm(forms.Form):
    """Tabler classes on widgets; ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect, forms.CheckboxInput)):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            elif isinstance(widget, forms.HiddenInput):
                continue
            else:
                widget.attrs["class"] = "form-control"

    def add_error(self, field, error):
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


def _int_field(label, *, min_value=None, max_value=None, required=True, **kw):
    messages = {"required": f"请填写{label}", "invalid": f"{label}应为整数"}
    if min_value is not None:
        messages["min_value"] = f"{label}不能小于 {min_value}"
    if max_value is not None:
        messages["max_value"] = f"{label}不能大于 {max_value}"
    return forms.IntegerField(
        label=label, min_value=min_value, max_value=max_value, required=required, error_messages=messages, **kw
    )


def _date_field(label, *, required=True):
    return forms.DateField(
        label=label,
        required=required,
        widget=date_input(),
        error_messages={"required": f"请填写{label}", "invalid": f"{label}格式不正确"},
    )


def _text(label, limit, *, required=True, rows=None, min_length=None, **kw):
    messages = {"required": f"请填写{label}", **_long(label, limit)}
    if min_length:
        messages["min_length"] = f"{label}至少 {min_length} 个字"
    widget = forms.Textarea(attrs={"rows": rows}) if rows else None
    return forms.CharField(
        label=label,
        max_length=limit,
        required=required,
        min_length=min_length,
        error_messages=messages,
        widget=widget,
        **kw,
    )


# --- rulebook -----------------------------------------------------------------------------
SUBJECT_WORDS = {
    "农户": "household",
    "户": "household",
    "家庭": "household",
    "党员": "party_member",
    "干部": "cadre",
    **{v: v for v in SubjectKind.values},
}
PERIOD_WORDS = {
    "每月": "month",
    "月": "month",
    "每季度": "quarter",
    "季度": "quarter",
    "季": "quarter",
    "每年": "year",
    "年": "year",
    **{v: v for v in CapPeriod.values},
}
FEEDS_WORDS = {
    "红榜": "honor",
    "计入红榜": "honor",
    "黑榜": "warning",
    "计入黑榜": "warning",
    "": "",
    "不计入": "",
    "不计入红黑榜": "",
    "无": "",
    "-": "",
    "—": "",
    **{v: v for v in Feeds.values if v},
}
YES_WORDS = {"是", "需要", "需", "有", "y", "yes", "1", "true", "√"}
NO_WORDS = {"", "否", "不需要", "不需", "无", "n", "no", "0", "false", "-", "—"}
SPLIT = re.compile(r"\s*[|｜\t]\s*")
RULE_HELP = (
    "每行一条：编号 | 事项 | 类别 | 分值 | 适用对象 | 需佐证 | 每期上限（次） | 上限周期 | 红黑榜。"
    "前四项必填；分值加分写正数、扣分写负数；适用对象：农户 / 党员 / 干部（默认农户）；"
    "需佐证：是 / 否；上限周期：每月 / 每季度 / 每年；红黑榜：红榜 / 黑榜 / 留空。"
)


def parse_rule_lines(text: str) -> tuple[list[dict], list[str]]:
    """The rules textarea → service dicts, with line-numbered Chinese errors."""
    rules, errors = [], []
    lines = [(n, line.strip()) for n, line in enumerate((text or "").splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    if len(lines) > MAX_RULE_LINES:
        return [], [f"一个版本最多 {MAX_RULE_LINES} 条规则"]
    for n, line in lines:
        cells = SPLIT.split(line)
        cells += [""] * (9 - len(cells))
        if len(cells) > 9:
            errors.append(f"第 {n} 行：列数过多（最多 9 列，用“|”分隔）")
            continue
        code, name, category, points, subject, evidence, cap, cap_period, feeds = (c.strip() for c in cells)
        problems = []
        if not code or len(code) > 20:
            problems.append("编号必填且不超过 20 个字符")
        if not name or len(name) > 100:
            problems.append("事项必填且不超过 100 个字")
        if len(category) > 20:
            problems.append("类别不超过 20 个字")
        try:
            value = int(points.replace("＋", "+").replace("－", "-").replace("−", "-"))
        except ValueError:
            value = None
            problems.append("分值应为整数（扣分写负数，如 -3）")
        kind = SUBJECT_WORDS.get(subject or "农户")
        if kind is None:
            problems.append("适用对象应为 农户 / 党员 / 干部")
        ev = evidence.lower()
        if ev not in YES_WORDS and ev not in NO_WORDS:
            problems.append("需佐证应填 是 或 否")
        cap_value = None
        if cap:
            if not cap.isdigit() or not 1 <= int(cap) <= 1000:
                problems.append("每期上限应为 1–1000 的整数，或留空表示不限")
            else:
                cap_value = int(cap)
        period = PERIOD_WORDS.get(cap_period or "每年")
        if period is None:
            problems.append("上限周期应为 每月 / 每季度 / 每年")
        feed = FEEDS_WORDS.get(feeds)
        if feed is None:
            problems.append("红黑榜应为 红榜 / 黑榜 或留空")
        if problems:
            errors.append(f"第 {n} 行：" + "；".join(problems))
            continue
        rules.append(
            {
                "code": code,
                "name": name,
                "category": category or "其他",
                "points": value,
                "subject_kind": kind,
                "evidence_required": ev in YES_WORDS,
                "cap": cap_value,
                "cap_period": period,
                "feeds": feed,
            }
        )
    if not rules and not errors:
        errors.append("至少需要一条规则")
    return rules, errors


def rules_as_text(rules) -> str:
    """Existing rules back to the textarea format (to amend the current version)."""
    out = []
    for r in rules:
        out.append(
            " | ".join(
                [
                    r.code,
                    r.name,
                    r.category,
                    f"{r.points:+d}",
                    SubjectKind(r.subject_kind).label,
                    "是" if r.evidence_required else "否",
                    str(r.cap or ""),
                    CapPeriod(r.cap_period).label if r.cap else "",
                    {"honor": "红榜", "warning": "黑榜"}.get(r.feeds, ""),
                ]
            ).rstrip(" |")
        )
    return "\n".join(out)


class RulebookAdoptForm(TablerForm):
    area_code = forms.ChoiceField(
        label="适用范围", error_messages={"required": "请选择乡镇或村", "invalid_choice": "请选择有效的乡镇或村"}
    )
    title = _text("名称", 100)
    adopted_on = _date_field("通过日期")
    adopted_by = _text("通过会议", 100, required=False)
    votes_total = _int_field("应到人数", min_value=1, max_value=100000)
    votes_for = _int_field("赞成票", min_value=0, max_value=100000)
    rules = forms.CharField(
        label="规则条目",
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
        max_length=40000,
        help_text=RULE_HELP,
        error_messages={"required": "请填写规则条目", **_long("规则条目", 40000)},
    )

    def __init__(self, *args, areas: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = [("", "请选择")] + [(a["code"], a["label"]) for a in areas]
        self.fields["adopted_by"].widget.attrs["placeholder"] = "村民代表大会"
        self.fields["title"].widget.attrs["placeholder"] = "如：白塔畈镇“振风超市”积分制管理办法"
        self.fields["rules"].widget.attrs["class"] += " font-monospace"

    def clean(self):
        data = super().clean()
        if data.get("votes_for") is not None and data.get("votes_total") is not None:
            if data["votes_for"] > data["votes_total"]:
                self.add_error("votes_for", "赞成票不能多于应到人数")
        if data.get("rules"):
            parsed, errors = parse_rule_lines(data["rules"])
            if errors:
                self.add_error("rules", errors)
            data["parsed_rules"] = parsed
        return data


# --- awards -------------------------------------------------------------------------------
SUBJECT_RE = re.compile(r"^(household|party_member|cadre):(\d{1,12})$")


class AwardProposeForm(TablerForm):
    subject_kind = forms.ChoiceField(
        label="对象类别",
        choices=SubjectKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择对象类别", "invalid_choice": "对象类别无效"},
    )
    subject = forms.CharField(
        label="积分对象",
        max_length=40,
        widget=forms.HiddenInput,
        error_messages={"required": "请先搜索并选择积分对象（农户、党员或干部）"},
    )
    rule = forms.TypedChoiceField(
        label="积分规则",
        coerce=int,
        error_messages={"required": "请选择积分规则", "invalid_choice": "请选择有效的积分规则"},
    )
    occurred_on = _date_field("发生日期")
    reason = _text("事由", 500, rows=3)
    evidence = forms.FileField(
        label="佐证照片",
        required=False,
        help_text="JPG / PNG / WebP，不超过 10 MB；规则要求佐证时必须上传",
        error_messages={"invalid": "照片上传失败，请重新选择", "empty": "照片是空文件"},
    )

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule_objects = {r.pk: r for r in rules}
        groups: dict[str, list] = {}
        for r in rules:
            groups.setdefault(str(r.rulebook), []).append(
                (r.pk, f"{r.code} {r.name}（{r.points:+d} 分{'，需佐证' if r.evidence_required else ''}）")
            )
        self.fields["rule"].choices = [("", "请选择积分规则")] + list(groups.items())
        self.fields["rule"].widget.attrs["data-xz-tom"] = ""
        self.fields["evidence"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["evidence"].widget.attrs["capture"] = "environment"
        self.fields["reason"].widget.attrs["placeholder"] = "写清事实：什么时间、什么地点、做了什么"
        self.fields["occurred_on"].widget.attrs["max"] = periods.local_today().isoformat()

    def clean_subject(self):
        value = self.cleaned_data["subject"]
        m = SUBJECT_RE.match(value or "")
        if not m:
            raise ValidationError("请先搜索并选择积分对象")
        return m.group(1), int(m.group(2))

    def clean_rule(self):
        return self.rule_objects[self.cleaned_data["rule"]]

    def clean(self):
        data = super().clean()
        subject, kind = data.get("subject"), data.get("subject_kind")
        if subject and kind and subject[0] != kind:
            self.add_error("subject", "所选对象与对象类别不一致，请重新选择")
        return data


class ReviewForm(TablerForm):
    decision = forms.ChoiceField(
        label="评议结果",
        choices=[("approve", "通过，进入公示"), ("reject", "不通过")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择评议结果", "invalid_choice": "评议结果无效"},
    )
    note = _text("评议意见", 500, required=False, rows=2)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and len((data.get("note") or "").strip()) < 2:
            self.add_error("note", "不通过须说明理由")
        return data


class ObjectionForm(TablerForm):
    reason = _text("异议理由", 2000, rows=4, min_length=4)
    name = _text("异议人", 50, required=False)


class DecideForm(TablerForm):
    """Objection (异议) or appeal (申诉) decisions: upheld or not, with a note."""

    upheld = forms.ChoiceField(
        label="处理结果",
        widget=forms.RadioSelect,
        error_messages={"required": "请选择处理结果", "invalid_choice": "处理结果无效"},
    )
    note = _text("处理意见", 1000, rows=2, required=False)

    def __init__(self, *args, labels=("异议成立，撤销该积分", "异议不成立，积分入账"), note_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["upheld"].choices = [("yes", labels[0]), ("no", labels[1])]
        self.note_required = note_required
        if note_required:
            self.fields["note"].required = True

    def clean(self):
        data = super().clean()
        if self.note_required and data.get("note") is not None and len(data["note"].strip()) < 2:
            self.add_error("note", "请填写处理意见")
        return data


class BatchAwardForm(TablerForm):
    area_code = forms.ChoiceField(
        label="村 / 网格", error_messages={"required": "请选择村或网格", "invalid_choice": "请选择有效的村或网格"}
    )
    name = _text("活动名称", 100)
    held_on = _date_field("活动日期")
    rule = forms.TypedChoiceField(
        label="积分规则",
        coerce=int,
        error_messages={"required": "请选择积分规则", "invalid_choice": "请选择有效的积分规则"},
    )
    reason = _text("事由", 500, required=False)
    households = forms.TypedMultipleChoiceField(
        label="参加的农户",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请勾选参加活动的农户", "invalid_choice": "所选农户不在该区域：%(value)s"},
    )

    def __init__(self, *args, areas, rules, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule_objects = {r.pk: r for r in rules}
        self.fields["area_code"].choices = [("", "请选择")] + [(a["code"], a["label"]) for a in areas]
        self.fields["rule"].choices = [("", "请选择积分规则")] + [
            (r.pk, f"{r.code} {r.name}（{r.points:+d} 分）") for r in rules
        ]
        self.fields["rule"].widget.attrs["data-xz-tom"] = ""
        self.fields["households"].choices = [(h.pk, str(h)) for h in households]
        self.fields["name"].widget.attrs["placeholder"] = "如：三月人居环境集中整治"

    def clean_rule(self):
        return self.rule_objects[self.cleaned_data["rule"]]


class ReasonForm(TablerForm):
    reason = _text("原因", 500, rows=2, min_length=2)

    def __init__(self, *args, label="原因", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].error_messages.update({"required": f"请填写{label}", "min_length": f"{label}至少 2 个字"})


# --- shop ---------------------------------------------------------------------------------
class ShopForm(TablerForm):
    area_code = forms.ChoiceField(
        label="服务范围", error_messages={"required": "请选择乡镇或村", "invalid_choice": "请选择有效的乡镇或村"}
    )
    name = _text("超市名称", 100)
    keeper = forms.TypedChoiceField(
        label="超市管理员", coerce=int, required=False, error_messages={"invalid_choice": "请选择有效的管理员"}
    )
    address = _text("地址", 200, required=False)

    def __init__(self, *args, areas, keepers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = [("", "请选择")] + [(a["code"], a["label"]) for a in areas]
        self.fields["keeper"].choices = [("", "暂不指定")] + [(u.pk, u.display_name) for u in keepers]
        self.keeper_objects = {u.pk: u for u in keepers}

    def clean_keeper(self):
        value = self.cleaned_data.get("keeper")
        return self.keeper_objects.get(value) if value not in (None, "") else None


class ProductForm(TablerForm):
    name = _text("商品名称", 100)
    unit = _text("单位", 10, required=False)
    price = _int_field("所需积分", min_value=1, max_value=100000)
    low_stock = _int_field("低库存提醒", min_value=0, max_value=100000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.attrs["placeholder"] = "件"
        self.fields["low_stock"].widget.attrs["placeholder"] = "5"


class StockInForm(TablerForm):
    quantity = _int_field("入库数量", min_value=1, max_value=100000)
    note = _text("备注", 200, required=False)


# --- 红黑榜 ---------------------------------------------------------------------------------
def period_choices(today=None) -> list[tuple[str, str]]:
    """The last 12 months and last 4 quarters (current ones included)."""
    today = today or periods.local_today()
    months, quarters = [], []
    y, m = today.year, today.month
    for _ in range(12):
        p = periods.month(y, m)
        months.append((f"month:{p.start.isoformat()}", p.label))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    y, q = today.year, (today.month - 1) // 3 + 1
    for _ in range(4):
        p = periods.quarter(y, q)
        quarters.append((f"quarter:{p.start.isoformat()}", p.label))
        y, q = (y, q - 1) if q > 1 else (y - 1, 4)
    return [("月度", months), ("季度", quarters)]


class ListGenerateForm(TablerForm):
    village = forms.ChoiceField(label="村", error_messages={"required": "请选择村", "invalid_choice": "请选择有效的村"})
    subject_kind = forms.ChoiceField(
        label="对象",
        choices=SubjectKind.choices[:2],
        error_messages={"required": "请选择对象", "invalid_choice": "对象无效"},
    )
    period = forms.ChoiceField(
        label="评比周期", error_messages={"required": "请选择评比周期", "invalid_choice": "请选择有效的评比周期"}
    )
    top_n = _int_field("红榜人数", min_value=1, max_value=100, required=False)

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "请选择")] + [(v["code"], v["label"]) for v in villages]
        self.fields["period"].choices = [("", "请选择")] + period_choices()
        self.fields["top_n"].widget.attrs["placeholder"] = "10"

    def clean_period(self):
        from datetime import date

        kind, _, start = self.cleaned_data["period"].partition(":")
        return kind, date.fromisoformat(start)


class AppealForm(TablerForm):
    reason = _text("申诉理由", 2000, rows=4, min_length=4)


class ClaimForm(TablerForm):
    """A villager claims points for the household, with a photo."""

    rule = forms.TypedChoiceField(
        label="申报事项",
        coerce=int,
        error_messages={"required": "请选择申报事项", "invalid_choice": "请选择有效的申报事项"},
    )
    occurred_on = _date_field("发生日期")
    reason = _text("情况说明", 500, rows=3)
    evidence = forms.FileField(
        label="照片",
        required=False,
        help_text="拍一张能说明情况的照片（JPG / PNG）",
        error_messages={"invalid": "照片上传失败，请重新选择", "empty": "照片是空文件"},
    )

    def __init__(self, *args, rules, **kwargs):
        super().__init__(*args, **kwargs)
        self.rule_objects = {r.pk: r for r in rules}
        self.fields["rule"].choices = [("", "请选择")] + [
            (r.pk, f"{r.name}（+{r.points} 分{'，需照片' if r.evidence_required else ''}）") for r in rules
        ]
        self.fields["evidence"].widget.attrs["accept"] = "image/jpeg,image/png,image/webp"
        self.fields["occurred_on"].widget.attrs["max"] = periods.local_today().isoformat()

    def clean_rule(self):
        return self.rule_objects[self.cleaned_data["rule"]]


CATEGORY_CHOICES = RULE_CATEGORIES
