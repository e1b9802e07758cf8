import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

CLASSES = [
    (re.compile(r"[a-z]"), "小写字母"),
    (re.compile(r"[A-Z]"), "大写字母"),
    (re.compile(r"[0-9]"), "数字"),
    (re.compile(r"[^a-zA-Z0-9]"), "符号"),
]


class CharacterClassValidator:
    """Staff passwords need at least 3 of the 4 character classes."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        used = sum(1 for rx, _ in CLASSES if rx.search(password or ""))
        if used < self.min_classes:
            raise ValidationError(
                "密码至少需要包含大写字母、小写字母、数字、符号中的 %(n)d 类。",
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self):
        return f"密码至少包含大写字母、小写字母、数字、符号中的 {self.min_classes} 类。"


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with a Chinese message (Django 5.2's zh_Hans catalogue misses
    the reworded message, so it would show in English)."""

    def get_error_message(self):
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self):
        return f"密码至少需要 {self.min_length} 个字符。"
