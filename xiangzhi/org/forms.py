"""Forms of the region pages. Shape only; the rules live in ``services``."""

from __future__ import annotations

from django import forms

from xiangzhi.accounts.forms import TablerForm


class GridCreateForm(TablerForm):
    name = forms.CharField(
        label="网格名称",
        max_length=100,
        error_messages={"required": "请填写网格名称", "max_length": "网格名称最多 100 个字"},
    )
    note = forms.CharField(
        label="说明", max_length=200, required=False, error_messages={"max_length": "说明最多 200 个字"}
    )


class GridUpdateForm(GridCreateForm):
    is_active = forms.BooleanField(label="启用", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["is_active"].widget.attrs["class"] = "form-check-input"
