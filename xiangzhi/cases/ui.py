"""Read helpers for the staff pages of cases: areas in scope, the people a form offers
(leads, handlers, mediators), the "我的待办" condition, display labels. Reads only; every
query starts from the user's scope (``scopes_for`` / ``restrict``) or from the case the
user already reached through ``selectors.case_get``."""

from __future__ import annotations

from django.db.models import Q

from xiangzhi.core.scoping import _assignments, can_in_area, memoised, prefix_q, scopes_for
from xiangzhi.org.models import Assignment, Region
from xiangzhi.org.roles import ROLES

from . import workflow
from .choices import OPEN_STATUSES, Kind, Level, Status
from .models import CaseEvent
from .services import ROLE_LEVEL, actor_level

# Labels of timeline rows that are not workflow actions.
RECORD_LABELS = {
    "register": "登记",
    "meeting": "召开会议",
    "mediation": "调解",
    "follow_up": "回访",
    "skip_level": "越级访记录",
    "attachment": "上传附件",
}

ACTION_STYLE = {
    "accept": "btn-primary",
    "assign": "btn-primary",
    "start": "btn-primary",
    "resolve": "btn-success",
    "close": "btn-success",
    "reject": "btn-outline-danger",
    "fail": "btn-outline-danger",
    "supervise": "btn-outline-warning",
}

STATUS_BADGE = {
    Status.REGISTERED: "bg-blue-lt",
    Status.ACCEPTED: "bg-cyan-lt",
    Status.ASSIGNED: "bg-indigo-lt",
    Status.IN_PROGRESS: "bg-azure-lt",
    Status.RESOLVED: "bg-green-lt",
    Status.UNRESOLVED: "bg-orange-lt",
    Status.CLOSED: "bg-secondary-lt",
    Status.NOT_ACCEPTED: "bg-secondary-lt",
    Status.TRANSFERRED: "bg-secondary-lt",
}
KIND_BADGE = {Kind.PETITION: "bg-purple-lt", Kind.DISPUTE: "bg-orange-lt", Kind.NEED: "bg-teal-lt"}


def event_label(action: str) -> str:
    if action in workflow.ACTIONS:
        return workflow.ACTIONS[action].label
    return RECORD_LABELS.get(action, action)


# --- areas ------------------------------------------------------------------------------
def case_areas(user, perm: str = "cases.view_case") -> list[dict]:
    """Villages and grids inside the user's ``perm`` scope (area scope only), with labels.
    One or two queries whatever the scope, once per user and scope stamp (the list derives
    from the user's assignments and the region tree only — ``core.scoping.memoised``).
    Shared between requests: do not modify the list or its dicts."""
    return memoised(user, ("cases.case_areas", perm), lambda: _case_areas(user, perm))


def _case_areas(user, perm: str) -> list[dict]:
    prefixes, _ = scopes_for(user, perm)
    if not prefixes:
        return []
    cond = Q()
    for p in prefixes:
        cond |= prefix_q("code", p)
    rows = list(
        Region.objects.filter(cond, level__in=("village", "grid"), is_active=True)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    names = {code: name for code, name, level in rows if level == "village"}
    missing = {code[:12] for code, _, level in rows if level == "grid" and code[:12] not in names}
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    out = []
    for code, name, level in rows:
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


def area_choices(areas: list[dict], *, empty: str = "请选择村或网格") -> list:
    groups: dict[str, list] = {}
    titles: dict[str, str] = {}
    for a in areas:
        titles[a["village_code"]] = a["village_name"]
        label = f"{a['name']}（村级，不分网格）" if a["level"] == "village" else a["name"]
        groups.setdefault(a["village_code"], []).append((a["code"], label))
    return [("", empty)] + [(titles[v], opts) for v, opts in groups.items()]


def area_labels(codes) -> dict[str, str]:
    """{area_code: "刘冲村 · 第一网格"} for a page of rows: one query."""
    codes = set(codes)
    wanted = {c[:12] for c in codes} | {c for c in codes if len(c) > 12} | {c[:9] for c in codes}
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    out = {}
    for c in codes:
        village = names.get(c[:12], c[:12])
        out[c] = f"{village} · {names.get(c, c)}" if len(c) > 12 else village
    return out


def village_name(code: str) -> str:
    return Region.objects.filter(code=code[:12]).values_list("name", flat=True).first() or ""


# --- people -----------------------------------------------------------------------------
def _roles_with(perm: str) -> list[str]:
    return [code for code, role in ROLES.items() if role.permissions.get(perm) == "area"]


def _covering(area_code: str) -> list[str]:
    return [area_code[:n] for n in (6, 9, 12, 15) if len(area_code) >= n]


def _people(area_code: str, perm: str, *, roles=None) -> list[dict]:
    """Active users whose assignment covers ``area_code`` with a role granting ``perm``
    (or one of ``roles``), highest level first. One query."""
    role_codes = roles or _roles_with(perm)
    rows = (
        Assignment.objects.filter(area_code__in=_covering(area_code), role__in=role_codes, user__is_active=True)
        .select_related("user")
        .order_by("area_code", "role", "user__full_name", "user__username")
    )
    names = dict(Region.objects.filter(code__in=_covering(area_code)).values_list("code", "name"))
    seen: dict[int, dict] = {}
    for a in rows:
        label = f"{ROLES[a.role].label} · {names.get(a.area_code, a.area_code)}" if a.role in ROLES else a.role
        if a.user_id in seen:
            seen[a.user_id]["posts"].append(label)
            continue
        seen[a.user_id] = {"user": a.user, "posts": [label]}
    out = []
    for entry in seen.values():
        entry["label"] = f"{entry['user'].display_name}（{'、'.join(entry['posts'])}）"
        out.append(entry)
    return out


def lead_candidates(case) -> list[dict]:
    """包案领导: township and village leaders whose posts cover the case's area."""
    return _people(case.area_code, "cases.assign_case")


def handler_candidates(case) -> list[dict]:
    """定专人: anyone who handles cases over the case's area (grid workers included)."""
    return _people(case.area_code, "cases.handle_case")


MEDIATOR_ROLES = ["mediator", "village_secretary", "village_cadre", "township_staff", "township_admin"]


def mediator_candidates(case) -> list[dict]:
    return _people(case.area_code, "", roles=MEDIATOR_ROLES)


# --- queues -----------------------------------------------------------------------------
def todo_q(user) -> Q:
    """我的待办: open cases I handle, lead or am first responsible for, plus cases waiting
    at my level in my area for acceptance or for 交办 (no handler yet)."""
    cond = Q(handler=user) | Q(lead=user) | Q(first_responsible=user)
    for area, role in _assignments(user):
        if role not in ROLE_LEVEL:
            continue
        level = ROLE_LEVEL[role] or (Level.TOWNSHIP if len(area) <= 9 else Level.VILLAGE)
        waiting = [Status.REGISTERED]
        if role not in ("grid_worker", "mediator", "village_cadre"):
            waiting.append(Status.ACCEPTED)  # leaders do the 交办
        cond |= Q(area_code__startswith=area, level=level, status__in=waiting)
    return cond & Q(status__in=OPEN_STATUSES)


def due_label(case) -> str:
    """What ``current_due`` is, in words."""
    if case.status == Status.REGISTERED and case.accept_due_at:
        return "受理期限"
    if case.level_due_at and (case.due_at is None or case.level_due_at <= case.due_at):
        return "本级时限"
    return "办结期限"


def current_due(case):
    """The deadline that applies now: acceptance for a registered petition, else the
    nearer of the level limit and the case's due date."""
    if case.status not in OPEN_STATUSES:
        return None
    if case.status == Status.REGISTERED and case.accept_due_at:
        return case.accept_due_at
    candidates = [d for d in (case.level_due_at, case.due_at) if d]
    return min(candidates) if candidates else None


# --- actions on one case ------------------------------------------------------------------
def pending_extension(case):
    return CaseEvent.objects.filter(case=case, action="request_extension", data__pending=True).order_by("-id").first()


def actions_for(user, case, *, pending=None) -> list[dict]:
    """Buttons for the actions legal in the case's status that this user may take."""
    level = actor_level(user, case.area_code)
    out = []
    for code in workflow.allowed_actions(case.status):
        spec = workflow.ACTIONS[code]
        if code == "approve_extension":  # only the lead decides, whatever the level
            if pending is not None and case.lead_id == user.pk:
                out.append({"code": code, "label": spec.label, "style": "btn-warning"})
            continue
        if not can_in_area(user, f"cases.{spec.permission}_case", case.area_code):
            continue
        needed = spec.min_level or case.level
        if level is None or workflow.level_index(level) < workflow.level_index(needed):
            continue
        if code == "escalate" and workflow.level_above(case.level) is None:
            continue
        if code == "return":
            down = workflow.level_below(case.level)
            if down is None or (down == Level.GRID and len(case.area_code) < 15):
                continue
        if code == "request_extension" and (pending or (case.kind == Kind.PETITION and case.extension_days)):
            continue
        out.append({"code": code, "label": spec.label, "style": ACTION_STYLE.get(code, "btn-outline-secondary")})
    return out
