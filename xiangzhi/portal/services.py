"""The one write of the public portal: a villager's submission (网上 channel), through the
case engine's services. All or nothing: photos are checked before anything is written, and
the case and its photos are created in one transaction."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction

from xiangzhi.cases import services as case_services
from xiangzhi.cases.models import Case
from xiangzhi.core import phone as phones
from xiangzhi.core.uploads import check_upload
from xiangzhi.org.models import Region

from . import selectors

MAX_PHOTOS = 3
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def intake_key(*, token: str, village_code: str, phone: str) -> str | None:
    """The case's idempotency key for a public submission: the form's one-time token (or
    the API client's Idempotency-Key) bound to the village and the phone, so that someone
    who replays another person's token learns nothing without that person's phone."""
    if not token:
        return None
    digits = phones.normalize_phone(phone) or str(phone)
    digest = hashlib.sha256(f"{token}\x1f{village_code}\x1f{digits}".encode()).hexdigest()[:40]
    return f"pub:{digest}"


@transaction.atomic
def intake_submit(
    *,
    village_code: str,
    kind: str,
    title: str,
    description: str,
    contact_name: str,
    contact_phone: str,
    photos=(),
    token: str = "",
    grid_code: str = "",
) -> tuple[Case, bool]:
    """Register a villager's case at his village (属地; the village secretary becomes first
    responsible). Returns (case, created): a retried submission (same token, village and
    phone) returns the first case and ``created`` False."""
    errors = {}
    if not str(contact_phone or "").strip():
        errors["contact_phone"] = "请填写手机号码（查询办理进度要用）"
    photos = list(photos or ())
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = f"最多上传 {MAX_PHOTOS} 张照片"
    else:
        for upload in photos:
            try:
                check_upload(upload, field="photos", allowed=PHOTO_TYPES)
            except ValidationError as exc:
                errors["photos"] = exc.message_dict["photos"][0]
                break
    if errors:
        raise ValidationError(errors)
    key = intake_key(token=token, village_code=village_code, phone=contact_phone)
    if key:
        # Serialise submissions per village (a double click arrives twice at once), so that
        # the retry finds the first case and does not attach its photos a second time.
        Region.objects.select_for_update().filter(code=village_code).first()
        existing = selectors.case_by_intake_key(key)
        if existing is not None:
            return existing, False
    name = str(contact_name or "").strip()
    case = case_services.case_register(
        actor=None,
        kind=kind,
        channel="online",
        area_code=_grid_or_village(village_code, grid_code),
        title=title,
        description=description,
        contact_name=name,
        contact_phone=contact_phone,
        parties=[{"name": name, "role": "applicant", "note": "网上提交"}] if name else [],
        idempotency_key=key,
    )
    for upload in photos:
        case_services.attachment_add(actor=None, case=case, upload=upload)
    return case, True


def _grid_or_village(village_code: str, grid_code: str) -> str:
    """A villager who names his grid sends the case to its grid worker (网格 level first);
    otherwise it starts at the village."""
    if grid_code and len(grid_code) == 15 and grid_code.startswith(village_code):
        if Region.objects.filter(code=grid_code, level="grid", is_active=True).exists():
            return grid_code
    return village_code
