"""Every read of visits, contact assignments and problems, scoped by ``restrict(user,
action)`` on their ``area_code`` (the household's grid or village, or the village of a
板凳会). Out of scope → 404 / not listed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404

from xiangzhi.core import periods
from xiangzhi.core.scoping import can_in_area, prefix_q, scopes_for
from xiangzhi.org.models import Region

from .models import ContactAssignment, Problem, Visit, VisitHousehold, VisitPhoto

MAX_PK = 2**63 - 1


def _pk(value) -> int:
    from django.http import Http404

    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Http404 from None
    if not 0 < number <= MAX_PK:
        raise Http404
    return number


def visits_for(user, action: str = "view"):
    return Visit.objects.restrict(user, action)


def contacts_for(user, action: str = "view"):
    return ContactAssignment.objects.restrict(user, action)


def problems_for(user, action: str = "view"):
    return Problem.objects.restrict(user, action)


@dataclass
class VisitFilters:
    area_code: str = ""
    kind: str = ""
    start: date | None = None
    end: date | None = None  # inclusive
    mine: bool = False
    cadre_id: int | None = None
    household_id: int | None = None


def visit_list(*, user, filters: VisitFilters):
    qs = visits_for(user)
    f = filters
    if f.area_code:
        qs = qs.filter(prefix_q("area_code", f.area_code))
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.start:
        qs = qs.filter(visited_on__gte=f.start)
    if f.end:
        qs = qs.filter(visited_on__lte=f.end)
    if f.mine:
        qs = qs.filter(Q(cadre__user=user) | Q(created_by=user))
    if f.cadre_id:
        qs = qs.filter(cadre_id=f.cadre_id)
    if f.household_id:
        qs = qs.filter(household_rows__household_id=f.household_id)
    return qs.select_related("cadre").order_by("-visited_on", "-id")


def decorate(rows) -> None:
    """Households (head names), problem counts (found / turned into cases / solved) and place
    names for a page of visits: three queries whatever the page size."""
    rows = list(rows)
    if not rows:
        return
    ids = [v.pk for v in rows]
    heads: dict[int, list[str]] = {}
    for visit_id, head in (
        VisitHousehold.objects.filter(visit_id__in=ids).order_by("id").values_list("visit_id", "household__head_name")
    ):
        heads.setdefault(visit_id, []).append(head or "（未设户主）")
    counts = {
        row["visit_id"]: row
        for row in Problem.objects.filter(visit_id__in=ids)
        .values("visit_id")
        .annotate(
            n=Count("id"),
            to_case=Count("case"),
            solved=Count("id", filter=Q(case__status="closed", case__resolved_at__isnull=False)),
        )
        .order_by()
    }
    codes = {v.area_code for v in rows} | {v.area_code[:12] for v in rows}
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    for v in rows:
        v.head_names = heads.get(v.pk, [])
        c = counts.get(v.pk, {})
        v.problem_count, v.to_case_count, v.solved_count = c.get("n", 0), c.get("to_case", 0), c.get("solved", 0)
        village = names.get(v.area_code[:12], v.area_code[:12])
        v.place = f"{village} · {names[v.area_code]}" if len(v.area_code) > 12 and v.area_code in names else village


def visit_get(*, user, pk, action: str = "view") -> Visit:
    return get_object_or_404(visits_for(user, action).select_related("cadre", "created_by"), pk=_pk(pk))


def visit_households(*, user, visit: Visit) -> list:
    """The households of a visit (head, number) — those the user may see in the registry."""
    from xiangzhi.residents import selectors as registry

    return list(registry.households_for(user).filter(pk__in=visit.household_rows.values("household_id")).order_by("id"))


def visit_problems(*, user, visit: Visit) -> list[Problem]:
    """Problems with their case (status, "已解决" when closed after being resolved); the case
    link only where the user may read the case."""
    from xiangzhi.cases import selectors as case_selectors

    problems = list(visit.problems.select_related("household", "case").order_by("id"))
    case_ids = [p.case_id for p in problems if p.case_id]
    visible = (
        set(case_selectors.cases_for(user).filter(pk__in=case_ids).values_list("pk", flat=True)) if case_ids else set()
    )
    for p in problems:
        p.case_visible = p.case_id in visible
        p.case_status = case_status_label(p.case) if p.case_id else ""
        p.solved = bool(p.case_id and p.case.status == "closed" and p.case.resolved_at)
        p.can_convert = not p.case_id and can_in_area(user, "cases.add_case", p.area_code)
    return problems


def case_status_label(case) -> str:
    if case is None:
        return ""
    if case.status == "closed" and case.resolved_at:
        return "已解决"
    return case.get_status_display()


def problem_get(*, user, pk) -> Problem:
    return get_object_or_404(problems_for(user).select_related("visit"), pk=_pk(pk))


def photo_get(*, user, visit_pk, photo_pk) -> VisitPhoto:
    visit = visit_get(user=user, pk=visit_pk)
    return get_object_or_404(VisitPhoto.objects.filter(visit=visit), pk=_pk(photo_pk))


def visits_of_cadre(*, user, cadre, limit: int = 10) -> list[Visit]:
    rows = list(visits_for(user).filter(cadre=cadre).order_by("-visited_on", "-id")[:limit])
    decorate(rows)
    return rows


def visits_of_household(*, user, household, limit: int = 5):
    qs = visits_for(user).filter(household_rows__household=household)
    rows = list(qs.select_related("cadre").order_by("-visited_on", "-id")[:limit])
    return rows, qs


# --- contacts --------------------------------------------------------------------------------
def contact_list(*, user, area_code: str = "", kind: str = "", cadre_id: int | None = None, active: bool = True):
    qs = contacts_for(user)
    if area_code:
        qs = qs.filter(prefix_q("area_code", area_code))
    if kind:
        qs = qs.filter(kind=kind)
    if cadre_id:
        qs = qs.filter(cadre_id=cadre_id)
    if active:
        today = periods.local_today()
        qs = qs.filter(Q(end__isnull=True) | Q(end__gt=today))
    return qs.select_related("cadre", "household").order_by("area_code", "cadre__name", "id")


def contacts_of_cadre(*, user, cadre) -> list[ContactAssignment]:
    return list(contact_list(user=user, cadre_id=cadre.pk))


def last_visits(household_ids) -> dict[int, date]:
    return dict(
        VisitHousehold.objects.filter(household_id__in=list(household_ids))
        .values("household_id")
        .annotate(last=Max("visited_on"))
        .values_list("household_id", "last")
    )


def my_cadre(user):
    """The logged-in user's cadre record, or None."""
    from xiangzhi.cadres.models import Cadre

    if not getattr(user, "is_authenticated", False):
        return None
    return Cadre.objects.filter(user=user).first()


# --- areas -----------------------------------------------------------------------------------
def field_areas(
    user, perm: str = "visits.view_visit", *, levels=("county", "township", "village", "grid")
) -> list[dict]:
    """Areas for the pickers: each scope root and the townships, villages (and grids)
    inside it, labelled with their parents. Two queries."""
    prefixes, _ = scopes_for(user, perm)
    if not prefixes:
        return []
    cond = Q()
    for p in prefixes:
        cond |= Q(code=p) | Q(code__startswith=p, level__in=[lv for lv in levels if lv != "county"])
    rows = list(
        Region.objects.filter(cond, is_active=True, level__in=levels)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    names = {code: name for code, name, _ in rows}
    missing = {code[:n] for code, _, _ in rows for n in (9, 12) if len(code) > n and code[:n] not in names}
    if missing:
        names.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    listed = {code for code, _, _ in rows}
    out = []
    for code, name, level in rows:
        if level == "grid":
            label = f"{names.get(code[:12], code[:12])} · {name}"
        elif level == "village" and code[:9] not in listed:
            label = f"{names.get(code[:9], code[:9])} · {name}"
        elif level in ("county", "township"):
            label = f"{name}（全{'县' if level == 'county' else '乡镇'}）"
        else:
            label = name
        depth = sum(1 for n in (6, 9, 12) if len(code) > n and code[:n] in listed)
        out.append({"code": code, "name": name, "level": level, "label": label, "indent": "　" * depth})
    return out


def pick_area(areas: list[dict], raw: str | None) -> dict | None:
    raw = (raw or "").strip()
    for a in areas:
        if a["code"] == raw:
            return a
    return areas[0] if areas and not raw else None


def register_rows(qs, chunk: int = 500):
    """The visit register's rows, decorated chunk by chunk (constant memory)."""
    batch = []
    for visit in qs.iterator(chunk_size=chunk):
        batch.append(visit)
        if len(batch) >= chunk:
            decorate(batch)
            yield from batch
            batch = []
    if batch:
        decorate(batch)
        yield from batch


# --- coverage breakdown --------------------------------------------------------------------------
def _unit_of(depth: int):
    from django.db.models.functions import Substr

    return Substr("area_code", 1, depth)


def breakdown(area_code: str, period, *, depth: int) -> dict[str, dict]:
    """The figures of ``metrics.visit_counts`` / ``coverage`` / ``problems`` per unit one
    level below ``area_code`` (the first ``depth`` digits of the rows' area), in a handful of
    grouped queries instead of a query set per unit. Same formulas as ``visits.metrics``."""
    from django.db.models import Sum

    unit = _unit_of(depth)
    out: dict[str, dict] = {}

    def row(code):
        return out.setdefault(
            code,
            {
                "visits": 0,
                "attendees": 0,
                "household_visits": 0,
                "households_visited": 0,
                "assigned": 0,
                "assigned_visited": 0,
                "found": 0,
                "to_case": 0,
                "solved": 0,
            },
        )

    visits = Visit.objects.filter(
        prefix_q("area_code", area_code), visited_on__gte=period.start, visited_on__lt=period.end
    )
    for r in (
        visits.annotate(unit=unit)
        .values("unit")
        .annotate(n=Count("id"), att=Sum("attendees", filter=Q(kind="bench_meeting")))
        .order_by()
    ):
        x = row(r["unit"])
        x["visits"], x["attendees"] = r["n"], r["att"] or 0
    rows = VisitHousehold.objects.filter(
        prefix_q("area_code", area_code), visited_on__gte=period.start, visited_on__lt=period.end
    )
    for r in (
        rows.annotate(unit=unit)
        .values("unit")
        .annotate(times=Count("id"), households=Count("household", distinct=True))
        .order_by()
    ):
        x = row(r["unit"])
        x["household_visits"], x["households_visited"] = r["times"], r["households"]
    last_day = period.end - timedelta(days=1)
    assigned = ContactAssignment.objects.filter(
        prefix_q("area_code", area_code), household__isnull=False, start__lte=last_day
    ).filter(Q(end__isnull=True) | Q(end__gt=last_day))
    for r in assigned.annotate(unit=unit).values("unit").annotate(n=Count("household", distinct=True)).order_by():
        row(r["unit"])["assigned"] = r["n"]
    visited = VisitHousehold.objects.filter(
        household__in=assigned.values("household"), visited_on__gte=period.start, visited_on__lt=period.end
    )
    for r in visited.annotate(unit=unit).values("unit").annotate(n=Count("household", distinct=True)).order_by():
        row(r["unit"])["assigned_visited"] = r["n"]
    found = Problem.objects.filter(
        prefix_q("area_code", area_code), visit__visited_on__gte=period.start, visit__visited_on__lt=period.end
    )
    for r in (
        found.annotate(unit=unit)
        .values("unit")
        .annotate(
            n=Count("id"),
            to_case=Count("case"),
            solved=Count("id", filter=Q(case__status="closed", case__resolved_at__isnull=False)),
        )
        .order_by()
    ):
        x = row(r["unit"])
        x["found"], x["to_case"], x["solved"] = r["n"], r["to_case"], r["solved"]
    for x in out.values():
        x["person_times"] = x["household_visits"] + x["attendees"]
    return out


def cadre_breakdown(area_code: str, period, *, limit: int = 200) -> list[dict]:
    """Per cadre in the area and period: visits, household-visits, distinct households,
    person-times, active contact households and how many of them were visited."""
    from django.db.models import Sum

    from xiangzhi.cadres.models import Cadre

    out: dict[int, dict] = {}

    def row(cid):
        return out.setdefault(
            cid,
            {
                "visits": 0,
                "attendees": 0,
                "household_visits": 0,
                "households_visited": 0,
                "assigned": 0,
                "assigned_visited": 0,
            },
        )

    visits = Visit.objects.filter(
        prefix_q("area_code", area_code), visited_on__gte=period.start, visited_on__lt=period.end
    )
    for r in (
        visits.values("cadre_id")
        .annotate(n=Count("id"), att=Sum("attendees", filter=Q(kind="bench_meeting")))
        .order_by()
    ):
        x = row(r["cadre_id"])
        x["visits"], x["attendees"] = r["n"], r["att"] or 0
    vh = VisitHousehold.objects.filter(
        prefix_q("area_code", area_code), visited_on__gte=period.start, visited_on__lt=period.end
    )
    for r in vh.values("cadre_id").annotate(times=Count("id"), households=Count("household", distinct=True)).order_by():
        x = row(r["cadre_id"])
        x["household_visits"], x["households_visited"] = r["times"], r["households"]
    last_day = period.end - timedelta(days=1)
    assigned = ContactAssignment.objects.filter(
        prefix_q("area_code", area_code), household__isnull=False, start__lte=last_day
    ).filter(Q(end__isnull=True) | Q(end__gt=last_day))
    for r in assigned.values("cadre_id").annotate(n=Count("household", distinct=True)).order_by():
        row(r["cadre_id"])["assigned"] = r["n"]
    # a cadre's assigned households visited (by anyone) in the period
    pairs = set(assigned.values_list("cadre_id", "household_id"))
    if pairs:
        seen = set(
            VisitHousehold.objects.filter(
                household_id__in={h for _, h in pairs}, visited_on__gte=period.start, visited_on__lt=period.end
            )
            .values_list("household_id", flat=True)
            .distinct()
        )
        for cid, hid in pairs:
            if hid in seen:
                row(cid)["assigned_visited"] += 1
    names = dict(Cadre.objects.filter(pk__in=list(out)).values_list("pk", "name"))
    rows = []
    for cid, x in out.items():
        x["person_times"] = x["household_visits"] + x["attendees"]
        rows.append({"cadre_id": cid, "name": names.get(cid, "—"), **x})
    rows.sort(key=lambda r: (-r["person_times"], -r["visits"], r["name"]))
    return rows[:limit]
