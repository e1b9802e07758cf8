"""Forms of the public portal: plain language, big fields, Chinese messages."""

from __future__ import annotations

import re
import secrets

from django import forms

from xiangzhi.core import phone as phones
from xiangzhi.core.text import clean_text

from .selectors import KIND_CHOICES
from .services import MAX_PHOTOS

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
CODE_RE = re.compile(r"[A-Za-z0-9]{10}")


def new_token() -> str:
    return secrets.token_urlsafe(24)


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    widget = MultiplePhotoInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > MAX_PHOTOS:
            raise forms.ValidationError(f"最多上传 {MAX_PHOTOS} 张照片")
        return [super(MultiplePhotoField, self).clean(f, initial) for f in files]


class _Styled(forms.Form):
    """Tabler classes on every visible input; ``is-invalid`` on the ones with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if not isinstance(field.widget, forms.HiddenInput | forms.RadioSelect):
                field.widget.attrs["class"] = "form-control"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields and "class" in self.fields[name].widget.attrs:
                self.fields[name].widget.attrs["class"] = "form-control is-invalid"


class IntakeForm(_Styled):
    def __init__(self, *args, grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = [("", "不清楚")] + [(g.code, g.name) for g in grids]
        if not grids:
            self.fields["grid"].widget = forms.HiddenInput()

    kind = forms.ChoiceField(
        label="您要反映什么？",
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择一项", "invalid_choice": "请选择一项"},
    )
    title = forms.CharField(
        label="一句话说明",
        max_length=100,
        error_messages={"required": "请用一句话说明是什么事", "max_length": "一句话说明最多 100 个字"},
        widget=forms.TextInput(attrs={"placeholder": "例如：门前排水沟堵了，雨天进水"}),
    )
    description = forms.CharField(
        label="详细情况",
        max_length=5000,
        error_messages={"required": "请写一写详细情况", "max_length": "详细情况最多 5000 个字"},
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "什么时间、什么地点、发生了什么、希望怎么解决"}),
    )
    contact_name = forms.CharField(
        label="您的姓名",
        max_length=50,
        error_messages={"required": "请填写您的姓名", "max_length": "姓名最多 50 个字"},
    )
    contact_phone = forms.CharField(
        label="手机号码",
        max_length=20,
        help_text="工作人员会联系您；查询办理进度时要用手机号后四位。",
        error_messages={"required": "请填写手机号码（查询办理进度要用）", "max_length": "手机号码格式不正确"},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    grid = forms.ChoiceField(
        label="您家所在网格（知道就选，不知道可不选）",
        required=False,
        choices=[("", "不清楚")],
        error_messages={"invalid_choice": "请从列表中选择网格"},
    )
    photos = MultiplePhotoField(
        label="照片（可不传，最多 3 张）",
        widget=MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def clean_title(self):
        value = clean_text(self.cleaned_data["title"])
        if not value:
            raise forms.ValidationError("请用一句话说明是什么事")
        return value

    def clean_contact_name(self):
        value = clean_text(self.cleaned_data["contact_name"])
        if not value:
            raise forms.ValidationError("请填写您的姓名")
        return value

    def clean_contact_phone(self):
        try:
            return phones.validate_phone(self.cleaned_data["contact_phone"])
        except phones.PhoneError as exc:
            raise forms.ValidationError(str(exc))

    def clean_token(self):
        value = self.cleaned_data.get("token") or ""
        return value if TOKEN_RE.fullmatch(value) else ""


class TrackForm(_Styled):
    tracking_code = forms.CharField(
        label="查询码",
        max_length=12,
        error_messages={"required": "请输入查询码", "max_length": "查询码是 10 位字母和数字"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    phone_last4 = forms.CharField(
        label="手机号后四位",
        max_length=4,
        min_length=4,
        error_messages={
            "required": "请输入手机号后四位",
            "min_length": "请输入 4 位数字",
            "max_length": "请输入 4 位数字",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]{4}"}),
    )

    def clean_tracking_code(self):
        value = re.sub(r"[\s-]", "", self.cleaned_data["tracking_code"]).upper()
        if not CODE_RE.fullmatch(value):
            raise forms.ValidationError("查询码是 10 位字母和数字")
        return value

    def clean_phone_last4(self):
        value = self.cleaned_data["phone_last4"].strip()
        if not (len(value) == 4 and value.isascii() and value.isdigit()):
            raise forms.ValidationError("请输入 4 位数字")
        return value
