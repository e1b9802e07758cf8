"""Forms of the staff case pages. They shape and bound the input and give Chinese field
messages; the rules that matter (four fixes, deadlines, permissions, transitions) live in
``services`` and come back as ValidationError / IllegalTransition / PermissionDenied."""

from __future__ import annotations

import re
import secrets
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from xiangzhi.core import periods

from . import config
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
from .ui import area_choices

MAX_PARTIES = 5
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _long(label: str, limit: int) -> dict:
    return {"max_length": f"{label}过长（最多 {limit} 个字）"}


def _req(message: str, **extra) -> dict:
    return {"required": message, **extra}


def new_token() -> str:
    return secrets.token_urlsafe(24)


def assist_params() -> str:
    """The only fields the registration helper requests send (never the description,
    the phone or the photos)."""
    names = [
        "area_code",
        "category",
        "household",
        "contact_name",
        "related_case",
        "pick_household",
        "clear_household",
        "part",
    ]
    for i in range(MAX_PARTIES):
        names += [f"party-{i}-role", f"party-{i}-resident", f"party-{i}-name"]
    return ",".join(names)


def repeat_trigger_attrs() -> dict:
    """htmx attributes: when a name or the category changes, refresh the repeat-petition
    suggestions (POST, so names stay out of URLs and logs)."""
    return {
        "hx-post": reverse("cases:create_assist"),
        "hx-trigger": "change",
        "hx-target": "#repeat-box",
        "hx-swap": "outerHTML",
        "hx-params": assist_params(),
        "hx-vals": '{"part": "repeats"}',
    }


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
            elif not isinstance(widget, forms.HiddenInput):
                widget.attrs["class"] = "form-control"

    def add_error(self, field, error):
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


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


def textarea(rows=3, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def local_now_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


def category_choices(categories) -> list:
    """Tree select: one group per top-level category, the parent itself first."""
    tree = config.category_tree(list(categories))
    out: list = [("", "请选择分类")]
    for top, children in tree:
        if children:
            out.append((top.name, [(str(top.pk), f"{top.name}（其他）")] + [(str(c.pk), c.name) for c in children]))
        else:
            out.append((str(top.pk), top.name))
    return out


# --- registration -----------------------------------------------------------------------
class CaseCreateForm(TablerForm):
    kind = forms.ChoiceField(
        label="事项类型",
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages=_req("请选择事项类型", invalid_choice="事项类型无效"),
    )
    channel = forms.ChoiceField(
        label="来源渠道", choices=Channel.choices, error_messages=_req("请选择来源渠道", invalid_choice="来源渠道无效")
    )
    category = forms.ChoiceField(label="分类", error_messages=_req("请选择分类", invalid_choice="请选择有效的分类"))
    area_code = forms.ChoiceField(
        label="发生地（村/网格）",
        error_messages=_req("请选择事项发生地所在的村或网格", invalid_choice="请选择您管辖范围内的村或网格"),
    )
    household = forms.IntegerField(required=False, widget=forms.HiddenInput)
    contact_name = forms.CharField(label="联系人", max_length=50, required=False, error_messages=_long("联系人", 50))
    contact_phone = forms.CharField(
        label="联系电话", max_length=32, required=False, error_messages={"max_length": "电话号码过长"}
    )
    title = forms.CharField(
        label="事项标题", max_length=100, error_messages=_req("请填写事项标题", **_long("事项标题", 100))
    )
    description = forms.CharField(
        label="诉求内容",
        max_length=5000,
        widget=textarea(4),
        error_messages=_req("请填写诉求内容", **_long("诉求内容", 5000)),
    )
    received_at = forms.DateTimeField(
        label="收到时间",
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=datetime_input(),
        error_messages={"invalid": "请填写有效的时间"},
        help_text="默认为现在；来信等可填写实际收到时间",
    )
    related_case = forms.IntegerField(required=False, widget=forms.HiddenInput)
    idempotency_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, areas: list[dict], categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas = {a["code"]: a for a in areas}
        self.categories = {c.pk: c for c in categories}
        self.fields["area_code"].choices = area_choices(areas)
        self.fields["category"].choices = category_choices(categories)
        if not self.categories:  # nothing configured yet: registration must still work
            self.fields["category"].required = False
            self.fields["category"].help_text = "尚未配置事项分类，乡镇管理员可在“分类与时限”中载入默认分类"
        self.fields["kind"].widget.attrs["class"] = "form-check-input"
        self.fields["contact_phone"].widget.attrs.update(inputmode="tel", autocomplete="off", placeholder="手机或座机")
        self.fields["contact_name"].widget.attrs.update(autocomplete="off", **repeat_trigger_attrs())
        self.fields["category"].widget.attrs.update(repeat_trigger_attrs())
        self.fields["title"].widget.attrs.update(placeholder="一句话概括，如：邻里排水沟走向纠纷")
        self.fields["description"].widget.attrs.update(placeholder="事情经过、当事人诉求")
        if len(areas) == 1 and not self.is_bound:
            self.initial.setdefault("area_code", areas[0]["code"])

    def clean_category(self):
        value = self.cleaned_data.get("category")
        if not value and not self.categories:
            return None
        try:
            category = self.categories[int(value)]
        except (TypeError, ValueError, KeyError):
            raise ValidationError("请选择有效的分类")
        return category

    def clean_idempotency_key(self):
        key = self.cleaned_data.get("idempotency_key") or ""
        return key if TOKEN_RE.match(key) else ""

    def clean(self):
        data = super().clean()
        category, area = data.get("category"), data.get("area_code")
        if category is not None and area and category.township_code not in ("", area[:9]):
            self.add_error("category", "该分类不属于事项发生地所在乡镇")
        return data


class PartyForm(TablerForm):
    """One row of the parties: a resident of the chosen household, or a free-text name."""

    role = forms.ChoiceField(label="身份", choices=PartyRole.choices, required=False)
    resident = forms.ChoiceField(
        label="本户成员", required=False, error_messages={"invalid_choice": "请从本户成员中选择"}
    )
    name = forms.CharField(label="姓名/名称", max_length=100, required=False, error_messages=_long("姓名", 100))

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.pk: m for m in members}
        self.fields["resident"].choices = [("", "外来人员（填写姓名）" if members else "—")] + [
            (str(m.pk), m.name) for m in members
        ]
        if not members:
            self.fields["resident"].widget.attrs["disabled"] = True
        self.fields["resident"].widget.attrs.update(repeat_trigger_attrs())
        self.fields["name"].widget.attrs.update(
            placeholder="姓名或单位名称", autocomplete="off", **repeat_trigger_attrs()
        )

    def clean(self):
        data = super().clean()
        raw = data.get("resident")
        resident = self.members.get(int(raw)) if raw else None
        data["resident"] = resident
        if resident is not None:
            data["name"] = resident.name
        data["role"] = data.get("role") or PartyRole.APPLICANT
        return data

    def party(self) -> dict | None:
        data = self.cleaned_data
        if not data.get("name"):
            return None
        return {"name": data["name"], "role": data["role"], "resident": data.get("resident")}


def party_forms(data=None, *, members=()) -> list[PartyForm]:
    initial_roles = [PartyRole.APPLICANT, PartyRole.RESPONDENT] + [PartyRole.OTHER] * (MAX_PARTIES - 2)
    return [
        PartyForm(data, prefix=f"party-{i}", members=members, initial={"role": initial_roles[i]})
        for i in range(MAX_PARTIES)
    ]


# --- workflow actions -------------------------------------------------------------------
class ActionForm(TablerForm):
    """Base: ``case`` and ``user`` are known; ``service_kwargs()`` maps to the service."""

    field_map: dict = {}

    def __init__(self, *args, case, user, **kwargs):
        self.case, self.user = case, user
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


def _reason(label: str, placeholder: str = "") -> forms.CharField:
    field = forms.CharField(
        label=label, max_length=2000, widget=textarea(3), error_messages=_req(f"请填写{label}", **_long(label, 2000))
    )
    if placeholder:
        field.widget.attrs["placeholder"] = placeholder
    return field


class NoteForm(ActionForm):
    note = forms.CharField(
        label="说明（可选）", max_length=2000, required=False, widget=textarea(2), error_messages=_long("说明", 2000)
    )


class AcceptForm(NoteForm):
    pass


class StartForm(NoteForm):
    pass


class RejectForm(ActionForm):
    reason = _reason("不予受理的理由", "如：不属于本级职权范围，已告知向法院起诉")


class TransferForm(ActionForm):
    to_body = forms.CharField(
        label="转办单位", max_length=100, error_messages=_req("请填写转办单位", **_long("转办单位", 100))
    )
    reason = _reason("转办理由")


class ResolveForm(ActionForm):
    note = _reason("化解情况", "如：经小组会协商，双方同意按原走向恢复排水沟")
    field_map = {"reason": "note"}


class FailForm(ActionForm):
    note = _reason("未能化解的原因")
    field_map = {"reason": "note"}


class CloseForm(ActionForm):
    resolution = forms.CharField(
        label="办理结果",
        max_length=5000,
        widget=textarea(3),
        error_messages=_req("办结须填写办理结果", **_long("办理结果", 5000)),
    )


class ReopenForm(ActionForm):
    reason = _reason("重新办理的原因")


class EscalateForm(ActionForm):
    reason = _reason("上报理由", "如：涉及跨村山林权属，需镇里协调")


class ReturnForm(ActionForm):
    reason = _reason("退回理由")


class ExtensionForm(ActionForm):
    days = forms.IntegerField(
        label="延期天数",
        min_value=1,
        max_value=30,
        error_messages={
            "required": "请填写延期天数",
            "invalid": "延期天数应为整数",
            "min_value": "延期天数应在 1 至 30 天之间",
            "max_value": "延期天数应在 1 至 30 天之间",
        },
    )
    reason = _reason("延期理由")


class ApproveExtensionForm(ActionForm):
    decision = forms.ChoiceField(
        label="审批意见",
        choices=[("approve", "同意延期"), ("deny", "不同意")],
        widget=forms.RadioSelect,
        error_messages=_req("请选择审批意见"),
    )
    note = forms.CharField(label="说明（可选）", max_length=2000, required=False, widget=textarea(2))

    def service_kwargs(self) -> dict:
        return {"approve": self.cleaned_data["decision"] == "approve", "note": self.cleaned_data.get("note", "")}


class SuperviseForm(ActionForm):
    mark = forms.ChoiceField(
        label="督办等级",
        choices=Supervision.choices,
        widget=forms.RadioSelect,
        error_messages=_req("请选择督办等级", invalid_choice="督办等级无效"),
    )
    note = forms.CharField(label="督办意见（可选）", max_length=2000, required=False, widget=textarea(2))


class AssignForm(ActionForm):
    """包案 and the four fixes (定专人、定责任、定方案、定时限)."""

    lead = forms.ChoiceField(
        label="包案领导", error_messages=_req("请指定包案领导", invalid_choice="该人员不负责此区域")
    )
    handler = forms.ChoiceField(
        label="承办人（定专人）", error_messages=_req("请指定承办人（定专人）", invalid_choice="该人员不负责此区域")
    )
    responsibility = forms.CharField(
        label="责任（定责任）",
        max_length=2000,
        widget=textarea(2),
        error_messages=_req("请填写责任（定责任）", **_long("责任", 2000)),
    )
    plan = forms.CharField(
        label="化解方案（定方案）",
        max_length=5000,
        widget=textarea(3),
        error_messages=_req("请填写化解方案（定方案）", **_long("化解方案", 5000)),
    )
    due_date = forms.DateField(
        label="办结期限（定时限）",
        widget=date_input(),
        error_messages=_req("请填写办结期限（定时限）", invalid="请填写有效的日期"),
    )
    field_map = {"due_at": "due_date"}

    def __init__(self, *args, leads=(), handlers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {e["user"].pk: e["user"] for e in list(leads) + list(handlers)}
        self.fields["lead"].choices = [("", "请选择包案领导")] + [(str(e["user"].pk), e["label"]) for e in leads]
        self.fields["handler"].choices = [("", "请选择承办人")] + [(str(e["user"].pk), e["label"]) for e in handlers]
        self.fields["responsibility"].widget.attrs["placeholder"] = "如：网格员负责现场调查，村书记负责组织协商"
        self.fields["plan"].widget.attrs["placeholder"] = "如：先现场查看，再召开小组会协商，必要时申请镇里调解"
        if not self.is_bound:
            due = self.default_due()
            if due:
                self.initial.setdefault("due_date", due)
            if self.case.lead_id:
                self.initial.setdefault("lead", str(self.case.lead_id))
            if self.case.handler_id:
                self.initial.setdefault("handler", str(self.case.handler_id))
            self.initial.setdefault("responsibility", self.case.responsibility)
            self.initial.setdefault("plan", self.case.plan)
        self.fields["due_date"].help_text = self.due_hint()

    def default_due(self) -> date | None:
        """The level's deadline (petitions: the statutory 60 days)."""
        c = self.case
        due = c.due_at if c.kind == Kind.PETITION else (c.level_due_at or c.due_at)
        if due is None:
            return None
        local = periods.to_local(due).date()
        return max(local, periods.local_today())

    def due_hint(self) -> str:
        c = self.case
        if c.kind == Kind.PETITION and c.due_at:
            return f"信访事项受理后 60 日内办结，最迟 {periods.to_local(c.due_at):%Y-%m-%d}"
        return f"默认为{Level(c.level).label}级办理时限"

    def clean_due_date(self):
        day = self.cleaned_data["due_date"]
        if day < periods.local_today():
            raise ValidationError("办结期限不能早于现在")
        return day

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "lead": self.people.get(int(d["lead"])),
            "handler": self.people.get(int(d["handler"])),
            "responsibility": d["responsibility"],
            "plan": d["plan"],
            "due_at": periods.end_of_day(d["due_date"]),
        }


ACTION_FORMS = {
    "accept": AcceptForm,
    "reject": RejectForm,
    "transfer": TransferForm,
    "assign": AssignForm,
    "start": StartForm,
    "resolve": ResolveForm,
    "fail": FailForm,
    "close": CloseForm,
    "reopen": ReopenForm,
    "escalate": EscalateForm,
    "return": ReturnForm,
    "request_extension": ExtensionForm,
    "approve_extension": ApproveExtensionForm,
    "supervise": SuperviseForm,
}

ACTION_HINTS = {
    "accept": "受理后须交办（四定）：定专人、定责任、定方案、定时限。",
    "escalate": "上报后由上一级办理，本级时限重新计算。",
    "return": "退回下一级重新办理，须说明理由。",
    "close": "办结后可进行回访；群众不满意可重新办理。",
    "reject": "不予受理须说明理由，并告知当事人其他救济途径。",
}


# --- records on a case ------------------------------------------------------------------
class MeetingForm(TablerForm):
    kind = forms.ChoiceField(
        label="会议类型",
        choices=MeetingKind.choices,
        error_messages=_req("请选择会议类型", invalid_choice="会议类型无效"),
    )
    held_at = forms.DateTimeField(
        label="时间",
        input_formats=DATETIME_FORMATS,
        widget=datetime_input(),
        error_messages=_req("请填写会议时间", invalid="请填写有效的时间"),
    )
    place = forms.CharField(label="地点", max_length=100, error_messages=_req("请填写地点", **_long("地点", 100)))
    participants = forms.CharField(
        label="参加人员",
        max_length=2000,
        widget=textarea(2),
        error_messages=_req("请填写参加人员", **_long("参加人员", 2000)),
    )
    minutes = forms.CharField(
        label="会议纪要", max_length=10000, required=False, widget=textarea(4), error_messages=_long("会议纪要", 10000)
    )

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("held_at", local_now_minute())


class MediationForm(TablerForm):
    held_at = forms.DateTimeField(
        label="调解时间",
        input_formats=DATETIME_FORMATS,
        widget=datetime_input(),
        error_messages=_req("请填写调解时间", invalid="请填写有效的时间"),
    )
    place = forms.CharField(label="地点", max_length=100, required=False, error_messages=_long("地点", 100))
    mediators = forms.MultipleChoiceField(
        label="调解员",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "该人员不负责此区域"},
    )
    mediator_names = forms.CharField(
        label="其他调解员（姓名）", max_length=200, required=False, error_messages=_long("调解员姓名", 200)
    )
    result = forms.ChoiceField(
        label="调解结果",
        choices=MediationResult.choices,
        widget=forms.RadioSelect,
        error_messages=_req("请选择调解结果"),
    )
    facts = forms.CharField(
        label="纠纷主要事实",
        max_length=5000,
        required=False,
        widget=textarea(3),
        error_messages=_long("纠纷事实", 5000),
    )
    terms = forms.CharField(
        label="协议内容",
        max_length=5000,
        required=False,
        widget=textarea(4),
        error_messages=_long("协议内容", 5000),
        help_text="调解成功时填写，每条一行，打印时自动编号",
    )

    def __init__(self, *args, case=None, user=None, mediators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {e["user"].pk: e["user"] for e in mediators}
        self.fields["mediators"].choices = [(str(e["user"].pk), e["label"]) for e in mediators]
        self.fields["mediator_names"].widget.attrs["placeholder"] = "多人用顿号分隔，如：张某某、李某某"
        self.initial.setdefault("held_at", local_now_minute())
        if user is not None and user.pk in self.people:
            self.initial.setdefault("mediators", [str(user.pk)])

    def service_kwargs(self) -> dict:
        d = dict(self.cleaned_data)
        d["mediators"] = [self.people[int(pk)] for pk in d.get("mediators") or []]
        return d


class FollowUpForm(TablerForm):
    satisfaction = forms.ChoiceField(
        label="满意度", choices=Satisfaction.choices, widget=forms.RadioSelect, error_messages=_req("请选择满意度")
    )
    note = forms.CharField(
        label="回访记录", max_length=2000, required=False, widget=textarea(3), error_messages=_long("回访记录", 2000)
    )
    reopen = forms.BooleanField(
        label="群众不满意，重新办理", required=False, help_text="仅在“不满意”时可选；事项将回到办理中"
    )

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)


DESTINATIONS = ["县信访局", "市信访局", "省信访局", "国家信访局"]


class SkipLevelForm(TablerForm):
    occurred_on = forms.DateField(
        label="日期", widget=date_input(), error_messages=_req("请填写日期", invalid="请填写有效的日期")
    )
    destination = forms.CharField(
        label="去向",
        max_length=100,
        error_messages=_req("请填写去向（如：县信访局、市信访局、省信访局、国家信访局）", **_long("去向", 100)),
    )
    note = forms.CharField(
        label="情况说明", max_length=2000, required=False, widget=textarea(3), error_messages=_long("情况说明", 2000)
    )

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["destination"].widget.attrs.update(list="skip-destinations", autocomplete="off")
        self.initial.setdefault("occurred_on", periods.local_today())


class AttachmentForm(TablerForm):
    """Files come from request.FILES.getlist("photos"); this form only carries errors."""

    photos = forms.CharField(label="照片或 PDF", required=False)

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)


class PartyRecordForm(TablerForm):
    role = forms.ChoiceField(label="身份", choices=PartyRole.choices, initial=PartyRole.RESPONDENT,
                             error_messages=_req("请选择身份"))
    name = forms.CharField(label="姓名/名称", max_length=100,
                           error_messages=_req("请填写当事人姓名或单位名称", max_length="姓名/名称过长（最多 100 个字）"))
    note = forms.CharField(label="说明", max_length=200, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "如：邻居、施工单位"}))

    def __init__(self, *args, case=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)


RECORD_FORMS = {
    "meeting": ("召开会议", MeetingForm),
    "mediation": ("调解", MediationForm),
    "follow_up": ("回访", FollowUpForm),
    "skip_level": ("越级访记录", SkipLevelForm),
    "attachment": ("上传附件", AttachmentForm),
    "party": ("添加当事人", PartyRecordForm),
}


# --- queue filters ----------------------------------------------------------------------
STATUS_FILTERS = [("open", "全部在办"), ("overdue", "已超期")] + list(Status.choices)


# --- config -----------------------------------------------------------------------------
class CategoryAddForm(TablerForm):
    name = forms.CharField(
        label="分类名称",
        max_length=config.MAX_CATEGORY_NAME,
        error_messages=_req("请填写分类名称", **_long("分类名称", config.MAX_CATEGORY_NAME)),
    )
    parent = forms.ChoiceField(label="上级分类", required=False, error_messages={"invalid_choice": "上级分类无效"})

    def __init__(self, *args, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parents = {p.pk: p for p in parents}
        self.fields["parent"].choices = [("", "（作为一级分类）")] + [(str(p.pk), p.name) for p in parents]

    def clean_parent(self):
        raw = self.cleaned_data.get("parent")
        return self.parents.get(int(raw)) if raw else None


class CategoryRenameForm(TablerForm):
    name = forms.CharField(
        label="分类名称",
        max_length=config.MAX_CATEGORY_NAME,
        error_messages=_req("请填写分类名称", **_long("分类名称", config.MAX_CATEGORY_NAME)),
    )
