"""Forms of the cadre pages. They shape and bound the input and give Chinese field
messages; the rules that matter (age, duplicates, dates, permissions) live in ``services``
and come back as a ValidationError dict that ``apply_service_errors`` puts on the fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from .choices import Education, Establishment, FourOnesKind, Honorary, RecognitionKind, RecognitionTarget

DATE_FORMATS = ["%Y-%m-%d", "%Y.%m.%d", "%Y/%m/%d", "%Y%m%d"]
SEX_CHOICES = [("male", "男"), ("female", "女")]


def _long(label: str, limit: int) -> dict:
    return {"max_length": f"{label}过长（最多 {limit} 个字）"}


def date_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=help_text,
        error_messages={"required": f"请填写{label}", "invalid": f"{label}格式不正确，请写成 2023-06-30"},
    )


def choice(label: str, choices, *, required: bool = True, widget=None) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=required,
        widget=widget or forms.Select,
        error_messages={"required": f"请选择{label}", "invalid_choice": f"{label}无效，请重新选择"},
    )


def unit_choices(areas: list[dict], *, blank: str = "请选择单位") -> list:
    return [("", blank)] + [(a["code"], f"{a.get('indent', '')}{a['label']}") for a in areas]


class TablerForm(forms.Form):
    """Tabler classes on widgets; ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):  # noqa: UP038
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


class PostFields(TablerForm):
    """A post (任职): title, dates, flags."""

    title = forms.CharField(label="职务", max_length=50, error_messages={"required": "请填写职务", **_long("职务", 50)})
    start = date_field("任职时间")
    end = date_field("离任时间", required=False, help_text="仍在任则留空")
    leadership = forms.BooleanField(label="班子成员", required=False)
    is_secretary = forms.BooleanField(label="党组织书记", required=False)
    is_director = forms.BooleanField(label="村（居）委会主任", required=False, help_text="书记、主任都勾选即为“一肩挑”")
    honorary = choice("名誉职务", Honorary.choices, required=False)

    def post_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "start": d["start"],
            "end": d.get("end"),
            "leadership": d.get("leadership", False),
            "is_secretary": d.get("is_secretary", False),
            "is_director": d.get("is_director", False),
            "honorary": d.get("honorary") or "",
        }


class CadreForm(TablerForm):
    area_code = choice("所在单位", [])
    name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名", **_long("姓名", 50)})
    sex = choice("性别", SEX_CHOICES, widget=forms.RadioSelect)
    birth_date = date_field("出生日期")
    education = choice("学历", [("", "请选择")] + Education.choices)
    college_graduate = forms.BooleanField(label="全日制大学生", required=False)
    party_member = forms.BooleanField(label="中共党员", required=False)
    establishment = choice("编制", [("", "请选择")] + Establishment.choices)
    joined_on = date_field("参加工作时间", required=False)
    left_on = date_field("离任时间", required=False, help_text="调离或退休后填写；历史任职保留")

    def __init__(self, *args, areas: list[dict] | None = None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if editing:
            del self.fields["area_code"]
        else:
            del self.fields["left_on"]
            self.fields["area_code"].choices = unit_choices(areas or [])
            if areas and len(areas) == 1 and not self.is_bound:
                self.initial.setdefault("area_code", areas[0]["code"])
        self.fields["name"].widget.attrs.update(autocomplete="off")

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        kwargs = {k: d.get(k) for k in ("name", "sex", "birth_date", "education", "establishment", "joined_on")}
        kwargs["party_member"] = bool(d.get("party_member"))
        kwargs["college_graduate"] = bool(d.get("college_graduate"))
        if self.editing:
            kwargs["left_on"] = d.get("left_on")
        else:
            kwargs["area_code"] = d["area_code"]
        return kwargs

    @staticmethod
    def initial_from(cadre) -> dict:
        return {
            k: getattr(cadre, k)
            for k in (
                "name",
                "sex",
                "birth_date",
                "education",
                "establishment",
                "party_member",
                "college_graduate",
                "joined_on",
                "left_on",
            )
        }


class FirstPostForm(PostFields):
    """The optional first post on the create page (prefix ``post``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["start"].required = False
        del self.fields["end"]

    def clean(self):
        d = super().clean()
        if d.get("title") and not d.get("start"):
            self.add_error("start", "请填写任职时间")
        if d.get("start") and not d.get("title"):
            self.add_error("title", "请填写职务")
        return d

    def wanted(self) -> bool:
        return bool(self.cleaned_data.get("title"))


class PostForm(PostFields):
    area_code = choice("任职单位", [])

    def __init__(self, *args, areas: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = unit_choices(areas)

    def post_kwargs(self) -> dict:
        return {**super().post_kwargs(), "area_code": self.cleaned_data["area_code"]}


class PostEndForm(TablerForm):
    end = date_field("离任时间")


class RecognitionForm(TablerForm):
    kind = choice("类型", RecognitionKind.choices, widget=forms.RadioSelect)
    target = choice("对象", RecognitionTarget.choices, widget=forms.RadioSelect)
    cadre = choice("干部", [], required=False)
    unit_name = forms.CharField(label="单位名称", max_length=100, required=False, error_messages=_long("单位名称", 100))
    area_code = choice("所属乡镇/村", [], required=False)
    title = forms.CharField(
        label="荣誉称号",
        max_length=50,
        required=False,
        help_text="如 最美公务员、最美村干部",
        error_messages=_long("荣誉称号", 50),
    )
    issued_on = date_field("日期")
    issuer = forms.CharField(
        label="发文单位", max_length=100, error_messages={"required": "请填写发文单位", **_long("发文单位", 100)}
    )
    document_no = forms.CharField(label="文号", max_length=50, required=False, error_messages=_long("文号", 50))
    reason = forms.CharField(
        label="事由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写事由", **_long("事由", 500)},
    )

    def __init__(self, *args, cadres: list, areas: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].choices = [("", "请选择干部")] + [(str(pk), label) for pk, label in cadres]
        self.fields["area_code"].choices = unit_choices(areas, blank="（对象为干部时按其单位）")
        self.fields["cadre"].widget.attrs["data-xz-tom"] = "1"

    def clean(self):
        d = super().clean()
        if d.get("target") == RecognitionTarget.CADRE and not d.get("cadre"):
            self.add_error("cadre", "请选择干部")
        if d.get("target") == RecognitionTarget.UNIT:
            if not (d.get("unit_name") or "").strip():
                self.add_error("unit_name", "请填写单位名称")
            if not d.get("area_code"):
                self.add_error("area_code", "请选择所属乡镇或村")
        return d


class CadrePickForm(TablerForm):
    """Base of the growth forms: one cadre picked from the user's scope."""

    cadre = choice("干部", [])

    def __init__(self, *args, cadres: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].choices = [("", "请选择干部")] + [(str(pk), label) for pk, label in cadres]
        self.fields["cadre"].widget.attrs["data-xz-tom"] = "1"


class FourOnesForm(CadrePickForm):
    kind = choice("项目", FourOnesKind.choices)
    done_on = date_field("完成日期")
    title = forms.CharField(
        label="内容/题目",
        max_length=200,
        error_messages={"required": "请填写内容或题目", **_long("内容/题目", 200)},
        help_text="如 座谈会主题、所赠书名、演讲题目、文章标题",
    )


class LectureForm(TablerForm):
    area_code = choice("举办单位", [])
    held_on = date_field("日期")
    speaker = forms.CharField(
        label="主讲人", max_length=50, error_messages={"required": "请填写主讲人", **_long("主讲人", 50)}
    )
    topic = forms.CharField(
        label="主题", max_length=200, error_messages={"required": "请填写主题", **_long("主题", 200)}
    )
    attendees = forms.MultipleChoiceField(
        label="参加干部", required=False, error_messages={"invalid_choice": "所选干部不在您的管辖范围内"}
    )

    def __init__(self, *args, areas: list[dict], cadres: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = unit_choices(areas)
        self.fields["attendees"].choices = [(str(pk), label) for pk, label in cadres]
        self.fields["attendees"].widget.attrs.update({"data-xz-tom": "1", "size": "8"})


class CommitmentForm(CadrePickForm):
    promise = forms.CharField(
        label="承诺事项",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写承诺事项", **_long("承诺事项", 500)},
    )
    deadline = date_field("承诺期限")


class FulfilForm(TablerForm):
    fulfilled_on = date_field("践诺日期")
    note = forms.CharField(label="说明", max_length=500, required=False, error_messages=_long("说明", 500))


class MentorshipForm(TablerForm):
    mentor = choice("师傅（老干部）", [])
    mentee = choice("徒弟（年轻干部）", [])
    start = date_field("开始")
    end = date_field("结束", required=False)
    notes = forms.CharField(
        label="帮带记录",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=_long("帮带记录", 5000),
    )

    def __init__(self, *args, cadres: list, **kwargs):
        super().__init__(*args, **kwargs)
        options = [("", "请选择干部")] + [(str(pk), label) for pk, label in cadres]
        for name in ("mentor", "mentee"):
            self.fields[name].choices = options
            self.fields[name].widget.attrs["data-xz-tom"] = "1"


class SecondmentForm(CadrePickForm):
    to_where = forms.CharField(
        label="挂职单位", max_length=100, error_messages={"required": "请填写挂职单位", **_long("挂职单位", 100)}
    )
    post = forms.CharField(label="挂职职务", max_length=50, required=False, error_messages=_long("挂职职务", 50))
    start = date_field("开始")
    end = date_field("结束")


class ImportForm(TablerForm):
    area_code = choice("导入到", [])
    file = forms.FileField(label="花名册文件", error_messages={"required": "请选择要上传的文件", "empty": "文件是空的"})

    def __init__(self, *args, areas: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = unit_choices(areas, blank="请选择乡镇或村")
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.xls,.csv"
