"""Area scoping: the one place that decides which rows a user may reach.

Every area-bound model carries ``area_code`` (the hierarchical division code). A user's
``Assignment`` rows grant a role over an area; the role's permission table
(``xiangzhi.org.roles``) says what that role may do. ``Model.objects.restrict(user, action)``
turns that into one indexed prefix filter. Out of scope means *not found* (404), never 403.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def _assignments(user):
    """The user's assignments, loaded once per request (request.user is fresh each request,
    so a changed or removed assignment takes effect on the very next request)."""
    cached = getattr(user, "_xz_assignments", None)
    if cached is None:
        from xiangzhi.org.models import Assignment

        cached = list(Assignment.objects.filter(user_id=user.pk).values_list("area_code", "role"))
        user._xz_assignments = cached
    return cached


def forget_assignments(user) -> None:
    if hasattr(user, "_xz_assignments"):
        del user._xz_assignments


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def minimal_prefixes(codes) -> list[str]:
    """Drop codes that lie inside another code of the set (``34152411`` inside ``341524``)."""
    result: list[str] = []
    for code in sorted(set(codes), key=len):
        if not any(code.startswith(p) for p in result):
            result.append(code)
    return sorted(result)


def scopes_for(user, perm: str) -> tuple[list[str], bool]:
    """(area prefixes where ``perm`` is granted, whether it is granted on own rows)."""
    from xiangzhi.org.roles import AREA, OWN, ROLES

    if not _active(user):
        return [], False
    areas, own = [], False
    for area_code, role_code in _assignments(user):
        role = ROLES.get(role_code)
        scope = role.permissions.get(perm) if role else None
        if scope == AREA:
            areas.append(area_code)
        elif scope == OWN:
            own = True
    return minimal_prefixes(areas), own


def has_perm(user, perm: str) -> bool:
    """Whether any assignment of the user grants ``perm`` (decides 403 before scoping)."""
    areas, own = scopes_for(user, perm)
    return bool(areas) or own


def can_in_area(user, perm: str, area_code: str) -> bool:
    """Whether ``perm`` is granted over ``area_code`` (for creating rows in an area)."""
    areas, _ = scopes_for(user, perm)
    return any(area_code.startswith(p) for p in areas)


def roles_of(user) -> set[str]:
    if not _active(user):
        return set()
    return {role for _, role in _assignments(user)}


def prefix_q(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix``, written so that an index on ``field`` is *sought*:
    for a division code (ASCII digits) the LIKE is ANDed with the equivalent range
    ``prefix <= field < next(prefix)`` (``341524111`` → ``341524112``). SQLite cannot use a
    BINARY index for LIKE (its LIKE is case-insensitive), so without the range every scoped
    query scans the whole index — O(table) instead of O(area). Same rows either way."""
    q = Q(**{f"{field}__startswith": prefix})
    if prefix.isascii() and prefix.isdigit():
        q &= Q(**{f"{field}__gte": prefix})
        upper = str(int(prefix) + 1).zfill(len(prefix))
        if len(upper) == len(prefix):  # "99…9" has no upper bound of the same length
            q &= Q(**{f"{field}__lt": upper})
    return q


def perm_name(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = "view"):
        model = self.model
        areas, own = scopes_for(user, perm_name(model, action))
        field = getattr(model, "area_field", "area_code")
        q = Q()
        for prefix in areas:
            q |= prefix_q(field, prefix)
        own_lookup = getattr(model, "own_lookup", None)
        if own and own_lookup:
            q |= Q(**{own_lookup: user})
        if not q:
            return self.none()
        qs = self.filter(q)
        if own and own_lookup and "__" in own_lookup:
            qs = qs.distinct()
        return qs


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass
