"""Reads for account administration. Every read is scoped through ``restrict()``."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import Http404

from xiangzhi.core.scoping import scopes_for
from xiangzhi.org.models import Assignment, Region
from xiangzhi.org.roles import ROLES

from .models import User

MAX_PK = 2**63 - 1
ADMIN_LEVELS = ("county", "township", "village", "grid")


def user_list(*, user, q: str = ""):
    qs = User.objects.restrict(user, "view")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q))
    return qs.order_by("username", "id").prefetch_related(
        Prefetch("assignments", queryset=Assignment.objects.order_by("area_code", "role"))
    )


def user_get(*, user, pk: int, action: str = "view") -> User:
    """The account ``pk`` if it lies in ``user``'s scope for ``action``; else 404."""
    if pk is None or pk < 1 or pk > MAX_PK:
        raise Http404
    obj = User.objects.restrict(user, action).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def area_names(codes) -> dict[str, str]:
    """code → "白塔畈镇 刘冲村 第一网格" (path below the county) for many codes, one query."""
    codes = {c for c in codes if c}
    wanted = set()
    for code in codes:
        wanted.add(code)
        wanted.update(code[:n] for n in (9, 12) if len(code) > n)
    names = dict(Region.objects.filter(code__in=wanted).values_list("code", "name"))
    result = {}
    for code in codes:
        parts = [code[:n] for n in (9, 12) if len(code) > n] + [code]
        if len(code) <= 6:
            parts = [code]
        result[code] = " ".join(names.get(p, p) for p in parts)
    return result


def scope_regions(*, user, perm: str, levels=ADMIN_LEVELS):
    """Active regions inside the areas where ``user`` holds ``perm`` (for area selects)."""
    areas, _ = scopes_for(user, perm)
    if not areas:
        return Region.objects.none()
    q = Q()
    for prefix in areas:
        q |= Q(code__startswith=prefix)
    return Region.objects.filter(q, is_active=True, level__in=levels).order_by("code")


def area_choices(*, user, perm: str, levels=ADMIN_LEVELS) -> list[tuple[str, str]]:
    regions = list(scope_regions(user=user, perm=perm, levels=levels).values_list("code", "level"))
    labels = area_names([c for c, _ in regions])
    level_label = {"county": "县", "township": "乡镇", "village": "村", "grid": "网格"}
    return [(code, f"{labels[code]}（{level_label.get(level, level)} {code}）") for code, level in regions]


def role_choices() -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in ROLES.values()]


def assignment_rows(assignments, names: dict[str, str]) -> list[dict]:
    return [
        {
            "pk": a.pk,
            "role": a.role,
            "role_label": ROLES[a.role].label if a.role in ROLES else a.role,
            "area_code": a.area_code,
            "area": names.get(a.area_code, a.area_code),
        }
        for a in assignments
    ]
