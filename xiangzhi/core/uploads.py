"""Upload checks shared by every module: type by content (magic bytes, not the file name),
size limit, safe stored name. Files live under settings.UPLOAD_DIR (outside the web root)
and are served only through scoped views."""

from __future__ import annotations

import os
import uuid

from django.core.exceptions import ValidationError

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024

SIGNATURES = {
    "image/jpeg": [b"\xff\xd8\xff"],
    "image/png": [b"\x89PNG\r\n\x1a\n"],
    "application/pdf": [b"%PDF-"],
}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}


def sniff(head: bytes) -> str | None:
    for content_type, sigs in SIGNATURES.items():
        if any(head.startswith(s) for s in sigs):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_upload(upload, *, field: str = "file", max_bytes: int = MAX_ATTACHMENT_BYTES,
                 allowed=("image/jpeg", "image/png", "image/webp", "application/pdf")) -> str:
    """Return the detected content type or raise ValidationError (Chinese)."""
    if upload is None:
        raise ValidationError({field: "请选择文件"})
    size = getattr(upload, "size", None) or 0
    if size > max_bytes:
        raise ValidationError({field: f"文件过大（{size / 1024 / 1024:.1f} MB），单个文件不能超过 {max_bytes // 1024 // 1024} MB"})
    if size == 0:
        raise ValidationError({field: "文件是空的"})
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff(head)
    if content_type not in allowed:
        names = "、".join(sorted({EXTENSIONS[a].lstrip(".").upper() for a in allowed}))
        raise ValidationError({field: f"不支持的文件类型，请上传 {names} 文件"})
    return content_type


def safe_name(original: str, content_type: str) -> tuple[str, str]:
    """(display name kept for the user, random stored name with the right extension)."""
    display = os.path.basename(original or "").replace("\x00", "")[:200] or "附件"
    return display, f"{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '')}"
