"""The home page's work bench: what each role sees first. Later modules add panels by
registering a function here (role codes → panel builders)."""

from __future__ import annotations

from collections.abc import Callable

from .scoping import _assignments

PANELS: list[Callable] = []


def register_panel(fn: Callable) -> Callable:
    """``fn(user, assignments) -> dict | None`` with keys title, items/value, url."""
    PANELS.append(fn)
    return fn


def workbench_for(user) -> dict:
    from xiangzhi.org.models import Region
    from xiangzhi.org.roles import ROLES

    assignments = _assignments(user)
    names = dict(Region.objects.filter(code__in=[a for a, _ in assignments]).values_list("code", "name"))
    posts = [
        {"area_code": a, "area": names.get(a, a), "role": r, "role_label": ROLES[r].label if r in ROLES else r}
        for a, r in assignments
    ]
    panels = [p for p in (fn(user, assignments) for fn in PANELS) if p]
    return {"posts": posts, "panels": panels}
