"""Reads of the division tree. Official divisions are public; grids are scoped."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from .models import Region

PUBLIC_LEVELS = ("province", "city", "county", "township", "village")


def public_region(code: str) -> Region | None:
    if not code or len(code) > 12 or not code.isdigit():
        return None
    return Region.objects.filter(code=code, level__in=PUBLIC_LEVELS).first()


def public_children(region: Region):
    return Region.objects.filter(parent=region, level__in=PUBLIC_LEVELS).order_by("code")


def region_list(*, user, parent_code: str | None = None, action: str = "view"):
    qs = Region.objects.restrict(user, action)
    if parent_code:
        qs = qs.filter(parent_id=parent_code)
    return qs.order_by("code")


def region_get(*, user, code: str, action: str = "view") -> Region:
    return get_object_or_404(Region.objects.restrict(user, action), code=code)


def regions_by_code(codes) -> dict[str, Region]:
    return {r.code: r for r in Region.objects.filter(code__in=set(codes))}


def area_name(code: str) -> str:
    """"白塔畈镇 刘冲村 第1网格"-style path below the county, for display."""
    codes = [code[:n] for n in (9, 12, 15) if len(code) >= n]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return " ".join(names.get(c, c) for c in codes)
