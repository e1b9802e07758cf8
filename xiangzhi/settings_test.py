"""Test settings: speed-only overrides of the real settings (same apps, same middleware)."""

import os
import tempfile

os.environ.setdefault("XIANGZHI_DATA_DIR", tempfile.mkdtemp(prefix="xiangzhi-test-"))
os.environ.setdefault("XIANGZHI_FIELD_KEY", "dGVzdC1rZXktZm9yLXhpYW5nemhpLXRlc3RzLW9ubHk")  # tests only

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns on a missing root
