"""Public-only reads for the villagers' portal. Nothing here takes a user: these are the
only things an anonymous visitor may learn — a village's name (to label its intake page)
and, with both the tracking code and the phone's last 4 digits, the public view of one
case."""

from __future__ import annotations

from xiangzhi.cases import public as case_public
from xiangzhi.cases import selectors as case_selectors
from xiangzhi.cases.choices import Kind, Level, Status
from xiangzhi.cases.models import Case
from xiangzhi.org.models import Region

# Plain-language kinds for villagers (the staff labels are 急难愁盼 / 矛盾纠纷 / 信访).
KIND_CHOICES = [
    (Kind.NEED.value, "我有困难需要帮助"),
    (Kind.DISPUTE.value, "我有矛盾纠纷需要调解"),
    (Kind.PETITION.value, "我要信访反映问题"),
]
KIND_HINTS = {
    Kind.NEED.value: "生活、就医、就学、住房、饮水、道路等急难愁盼",
    Kind.DISPUTE.value: "邻里、土地、山林、婚姻家庭、劳资等纠纷",
    Kind.PETITION.value: "依照《信访工作条例》办理，15 日内告知是否受理",
}


def intake_village(code: str) -> Region | None:
    """The village whose intake page this is: an active 12-digit village-level region.
    Anything else (a township, a grid, an unknown code) has no intake page."""
    if not (isinstance(code, str) and len(code) == 12 and code.isdigit()):
        return None
    return Region.objects.filter(code=code, level="village", is_active=True).select_related("parent").first()


def village_label(village: Region) -> str:
    township = village.parent.name if village.parent_id and village.parent else ""
    return f"{township} {village.name}".strip()


def case_by_intake_key(key: str) -> Case | None:
    """The case a (retried) public submission already created."""
    return (
        Case.objects.filter(idempotency_key=key)
        .only("id", "tracking_code", "area_code", "kind", "status", "received_at", "level")
        .first()
    )


def track(*, tracking_code: str, phone_last4: str) -> dict | None:
    """The public view of a case, or None — the same None whether the code is unknown or
    the last 4 digits are wrong. Only: kind, the villager's own title, status, level, dates
    and the public timeline (fixed sentences, role labels; no staff notes, no names, no
    other parties)."""
    case = case_selectors.public_track(tracking_code=tracking_code, phone_last4=phone_last4)
    if case is None:
        return None
    village = Region.objects.filter(code=case.area_code[:12]).first()
    return {
        "tracking_code": case.tracking_code,
        "kind": case.kind,
        "kind_label": Kind(case.kind).label,
        "title": case.title,
        "status": case.status,
        "status_label": Status(case.status).label,
        "level": case.level,
        "level_label": Level(case.level).label,
        "village_name": village.name if village else "",
        "received_at": case.received_at,
        "closed_at": case.closed_at,
        "timeline": case_public.public_timeline(case),
    }


def village_grids(village) -> list:
    """The active grids of a village (names only are shown on the public intake page)."""
    from xiangzhi.org.models import Region

    return list(Region.objects.filter(parent=village, level="grid", is_active=True).order_by("code"))
