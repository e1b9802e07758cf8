"""Registry forms. They only shape and bound the input; every rule that matters (ID check
digit, name characters, uniqueness, area permission) lives in ``services`` and comes back as
a ``ValidationError`` dict that ``apply_service_errors`` puts on the fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from xiangzhi.core.scoping import can_in_area, memoised
from xiangzhi.org.models import Region

from .choices import HOUSEHOLD_TAGS, RESIDENT_TAGS, Relation, ResidentStatus, tags_from_db
from .services import MAX_ADDRESS, MAX_NAME


def _too_long(label: str, limit: int) -> dict:
    return {"max_length": f"{label}过长（最多 {limit} 个字，当前 %(show_value)d 个字）"}


def scoped_areas(user, perm: str | None = None) -> list[dict]:
    """Villages and grids the user may see (``org.view_region`` scope), optionally only
    those where ``perm`` is granted. Two queries, whatever the size of the scope — once per
    user and scope stamp in a request (``core.scoping.memoised``); treat the list as read-only."""
    return memoised(user, ("scoped_areas", perm), lambda: _scoped_areas(user, perm))


def _scoped_areas(user, perm: str | None) -> list[dict]:
    regions = list(
        Region.objects.restrict(user, "view")
        .filter(level__in=("village", "grid"), is_active=True)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    if perm:
        regions = [r for r in regions if can_in_area(user, perm, r[0])]
    names = {code: name for code, name, level in regions if level == "village"}
    missing = {code[:12] for code, _, level in regions if level == "grid" and code[:12] not in names}
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    out = []
    for code, name, level in regions:
        village = code[:12]
        out.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "village_code": village,
                "village_name": names.get(village, village),
                "label": name if level == "village" else f"{names.get(village, village)} · {name}",
            }
        )
    return out


def area_choices(areas: list[dict]) -> list:
    """Grouped choices: one group per village, the village itself first ("全村")."""
    groups: dict[str, list] = {}
    titles: dict[str, str] = {}
    for a in areas:
        titles[a["village_code"]] = a["village_name"]
        label = f"{a['name']}（村级，不分网格）" if a["level"] == "village" else a["name"]
        groups.setdefault(a["village_code"], []).append((a["code"], label))
    return [("", "请选择村或网格")] + [(titles[v], opts) for v, opts in groups.items()]


class TablerForm(forms.Form):
    """Tabler classes on widgets; ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"

    def add_error(self, field, error):
        super().add_error(field, error)
        if field in self.fields:
            widget = self.fields[field].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


class HouseholdForm(TablerForm):
    area_code = forms.ChoiceField(
        label="所属村/网格",
        error_messages={"required": "请选择所属村或网格", "invalid_choice": "请选择有效的村或网格"},
    )
    number = forms.CharField(label="户号", max_length=32, required=False, error_messages=_too_long("户号", 32))
    address = forms.CharField(
        label="住址", max_length=MAX_ADDRESS, required=False, error_messages=_too_long("住址", MAX_ADDRESS)
    )
    tags = forms.MultipleChoiceField(
        label="户标签",
        choices=list(HOUSEHOLD_TAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "未知标签：%(value)s"},
    )
    note = forms.CharField(
        label="备注",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_too_long("备注", 500),
    )

    def __init__(self, *args, areas: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = area_choices(areas)
        if len(areas) == 1 and not self.is_bound:
            self.initial.setdefault("area_code", areas[0]["code"])
        self.fields["number"].widget.attrs.update(placeholder="如 A1-001，可留空", autocomplete="off")
        self.fields["address"].widget.attrs.update(placeholder="如 刘冲村一组 12 号")

    @classmethod
    def initial_from(cls, household) -> dict:
        return {
            "area_code": household.area_code,
            "number": household.number,
            "address": household.address,
            "tags": tags_from_db(household.tags),
            "note": household.note,
        }


class ResidentForm(TablerForm):
    name = forms.CharField(
        label="姓名", max_length=MAX_NAME, error_messages={"required": "请填写姓名", **_too_long("姓名", MAX_NAME)}
    )
    id_number = forms.CharField(
        label="身份证号",
        required=False,
        max_length=40,
        error_messages={"max_length": "身份证号应为18位"},
    )
    phone = forms.CharField(label="电话", required=False, max_length=32, error_messages={"max_length": "电话号码过长"})
    relation = forms.ChoiceField(
        label="与户主关系",
        choices=Relation.choices,
        initial=Relation.OTHER,
        error_messages={"required": "请选择与户主关系", "invalid_choice": "与户主关系无效"},
    )
    tags = forms.MultipleChoiceField(
        label="人员标签",
        choices=list(RESIDENT_TAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "未知标签：%(value)s"},
    )
    status = forms.ChoiceField(
        label="状态",
        choices=ResidentStatus.choices,
        initial=ResidentStatus.ACTIVE,
        error_messages={"required": "请选择状态", "invalid_choice": "状态无效"},
    )

    def __init__(self, *args, editing: bool = False, masked: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        idf, phonef = self.fields["id_number"], self.fields["phone"]
        idf.widget.attrs.update(autocomplete="off", inputmode="text", spellcheck="false")
        phonef.widget.attrs.update(autocomplete="off", inputmode="tel")
        if editing:
            masked = masked or {}
            idf.widget.attrs["placeholder"] = (
                f"{masked['id_number']}（留空则不修改）" if masked.get("id_number") else "未登记（留空则不修改）"
            )
            phonef.widget.attrs["placeholder"] = (
                f"{masked['phone']}（留空则不修改）" if masked.get("phone") else "未登记（留空则不修改）"
            )
            idf.help_text = "出于隐私保护不显示原值；只有填写新号码才会修改。"
        else:
            del self.fields["status"]
            idf.widget.attrs["placeholder"] = "18 位，末位可为 X"
            phonef.widget.attrs["placeholder"] = "手机或座机，如 0564-5123456"

    def service_kwargs(self) -> dict:
        """Keyword arguments for resident_create / resident_update. When editing, an empty
        ID number or phone means "unchanged"."""
        data = self.cleaned_data
        kwargs = {"name": data["name"], "relation": data["relation"], "tags": list(data.get("tags") or [])}
        if self.editing:
            kwargs["status"] = data["status"]
            for f in ("id_number", "phone"):
                if data.get(f):
                    kwargs[f] = data[f]
        else:
            kwargs["id_number"] = data.get("id_number") or None
            kwargs["phone"] = data.get("phone") or None
        return kwargs


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: dict keys that name a field go there,
    the rest become non-field errors."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)
