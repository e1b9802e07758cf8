"""Forms of account administration. Forms only parse and check shape; the rules live in
``services`` and come back as field errors (``apply_errors``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from xiangzhi.core.text import clean_text

from . import selectors


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form's fields (unknown keys → form errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class TablerForm(forms.Form):
    """Tabler classes on every widget; ``is-invalid`` on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = (field.widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self):
        super().full_clean()
        self.mark_invalid()

    def add_error(self, field, error):
        super().add_error(field, error)
        self.mark_invalid()

    def mark_invalid(self):
        for name in getattr(self, "_errors", None) or {}:
            if name in self.fields and "is-invalid" not in self.fields[name].widget.attrs.get("class", ""):
                self.fields[name].widget.attrs["class"] += " is-invalid"


class SearchForm(TablerForm):
    q = forms.CharField(label="姓名或用户名", required=False, max_length=50)

    def clean_q(self):
        return clean_text(self.cleaned_data.get("q", ""))


class PasswordPairMixin:
    """Two password fields that must match and pass the password validators (checked here
    too, so that every field error shows at once; the service checks again)."""

    def password_user(self, data):
        from .models import User

        return User(username=data.get("username") or "", full_name=data.get("full_name") or "")

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "两次输入的密码不一致")
        elif p1 and "password1" not in self.errors:
            try:
                validate_password(p1, self.password_user(data))
            except ValidationError as exc:
                self.add_error("password1", exc.messages)
        return data


class UserCreateForm(PasswordPairMixin, TablerForm):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        help_text="登录用，英文字母、数字和 _ . @ + -",
        error_messages={"required": "请填写用户名"},
    )
    full_name = forms.CharField(label="姓名", max_length=50, required=False)
    area_code = forms.ChoiceField(
        label="所属区域",
        error_messages={"required": "请选择所属区域", "invalid_choice": "该区域不在您的管理范围内"},
    )
    password1 = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        max_length=128,
        help_text="至少 8 位，包含大写字母、小写字母、数字、符号中的至少 3 类",
        error_messages={"required": "请设置初始密码"},
    )
    password2 = forms.CharField(
        label="确认密码",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        max_length=128,
        error_messages={"required": "请再次输入密码"},
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area_code"].choices = [("", "请选择…")] + selectors.area_choices(
            user=actor, perm="accounts.add_user"
        )
        self.fields["area_code"].widget.attrs["data-xz-tom"] = ""

    def clean_username(self):
        from .services import USERNAME_RE

        username = self.cleaned_data["username"].strip()
        if not USERNAME_RE.match(username):
            raise ValidationError("用户名只能包含英文字母、数字和 _ . @ + -，最多 150 个字符")
        return username


class PasswordResetForm(PasswordPairMixin, TablerForm):
    def __init__(self, *args, target=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.target = target

    def password_user(self, data):
        return self.target if self.target is not None else super().password_user(data)

    password1 = forms.CharField(
        label="新密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
        help_text="至少 8 位，包含大写字母、小写字母、数字、符号中的至少 3 类",
        error_messages={"required": "请填写新密码"},
    )
    password2 = forms.CharField(
        label="确认新密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        max_length=128,
        error_messages={"required": "请再次输入新密码"},
    )


class AssignmentForm(TablerForm):
    role = forms.ChoiceField(label="岗位角色", error_messages={"required": "请选择角色", "invalid_choice": "未知角色"})
    area_code = forms.ChoiceField(
        label="所在区域",
        error_messages={"required": "请选择区域", "invalid_choice": "该区域不在您的管理范围内，或与所选角色的层级不符"},
    )

    def __init__(self, *args, actor, role: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        from xiangzhi.org.roles import ROLES

        self.fields["role"].choices = [("", "请选择…")] + selectors.role_choices()
        role = role or (self.data.get("role") if self.is_bound else None) or self.initial.get("role")
        levels = ROLES[role].levels if role in ROLES else selectors.ADMIN_LEVELS
        self.fields["area_code"].choices = [("", "请选择…")] + selectors.area_choices(
            user=actor, perm="org.add_assignment", levels=levels
        )
