"""Area scoping: the one place that decides which rows a user may reach.

Every area-bound model carries ``area_code`` (the hierarchical division code). A user's
``Assignment`` rows grant a role over an area; the role's permission table
(``xiangzhi.org.roles``) says what that role may do. ``Model.objects.restrict(user, action)``
turns that into one indexed prefix filter. Out of scope means *not found* (404), never 403.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.db import models
from django.db.models import Q

# Per-process memo of what a *request's* user may do, keyed by (user id, scope_stamp). The
# stamp is changed by database triggers whenever one of the user's assignments or any
# region changes (accounts/0003), and the middleware loads the user row at the start of every
# request — so a changed assignment still takes effect on the very next request, without
# the page querying assignments (and the derived area lists) every time. Only users marked
# by ``mark_request_user`` use it; any other user object queries, as before.
_MEMO: OrderedDict = OrderedDict()
_MEMO_MAX = 512  # users; a township admin's entry is ~20 KB, a county supervisor's ~0.5 MB
_MEMO_LOCK = threading.Lock()


def mark_request_user(user) -> None:
    """Called by the middleware for the user it loaded for this request."""
    if getattr(user, "is_authenticated", False) and hasattr(user, "scope_stamp"):
        user._xz_request_user = True


def user_memo(user) -> dict | None:
    """The memo dict for this request's user (values derived from its assignments and the
    region tree only), or None when the user may not use the memo."""
    if not getattr(user, "_xz_request_user", False):
        return None
    key = (user.pk, user.scope_stamp)
    with _MEMO_LOCK:
        memo = _MEMO.get(key)
        if memo is None:
            memo = _MEMO[key] = {}
            while len(_MEMO) > _MEMO_MAX:
                _MEMO.popitem(last=False)
        else:
            _MEMO.move_to_end(key)
    return memo


def memoised(user, name, compute):
    """``compute()`` once per (user, scope stamp) and process; plain ``compute()`` otherwise."""
    memo = user_memo(user)
    if memo is None:
        return compute()
    try:
        return memo[name]
    except KeyError:
        value = memo[name] = compute()
        return value


def _assignments(user):
    """The user's assignments, loaded once per request (request.user is fresh each request,
    so a changed or removed assignment takes effect on the very next request)."""
    cached = getattr(user, "_xz_assignments", None)
    if cached is None:
        from xiangzhi.org.models import Assignment

        def load():
            return list(Assignment.objects.filter(user_id=user.pk).values_list("area_code", "role"))

        cached = memoised(user, "assignments", load)
        user._xz_assignments = cached
    return cached


def forget_assignments(user) -> None:
    if hasattr(user, "_xz_assignments"):
        del user._xz_assignments
    user._xz_request_user = False  # changed during this request: query from now on


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
    """``field`` starts with ``prefix``, written so that an index on ``field`` is *sought*.
    For a division code (ASCII digits) it is the equivalent range
    ``prefix <= field < next(prefix)`` (``341524111`` → ``341524112``): every string in that
    range starts with ``prefix`` and every string starting with it is in the range, so the
    rows are the same as with ``LIKE 'prefix%'`` — but SQLite cannot use a BINARY index for
    LIKE (its LIKE is case-insensitive) and scanned the whole index, O(table) instead of
    O(area), and evaluating the LIKE on every row of the range costs a quarter of a count.
    Other prefixes keep the plain ``startswith``."""
    if prefix.isascii() and prefix.isdigit():
        upper = str(int(prefix) + 1).zfill(len(prefix))
        if len(upper) == len(prefix):
            return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})
        # "99…9" has no upper bound of the same length
        return Q(**{f"{field}__gte": prefix, f"{field}__startswith": prefix})
    return Q(**{f"{field}__startswith": prefix})


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


def restrict_sql(user, model, action: str = "view") -> tuple[str, tuple] | None:
    """``restrict(user, action)``'s condition on ``model`` as a SQL fragment and its
    parameters (columns qualified with the model's table), for the few hand-written queries
    on hot paths: the very predicate the ORM would write, compiled once per user and scope
    stamp. Nothing in scope → ``1 = 0``; None when the condition needs a join (own-rows
    scopes such as a villager's household) — use the ORM then."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connections

    def build():
        qs = model.objects.restrict(user, action)
        if qs.query.distinct or len(qs.query.alias_map) > 1:  # own rows through a join
            return None
        compiler = qs.query.get_compiler(connection=connections[qs.db])
        try:
            sql, params = compiler.compile(qs.query.where)
        except EmptyResultSet:
            return "1 = 0", ()
        return sql or "1 = 1", tuple(params)

    return memoised(user, ("restrict_sql", model._meta.label, action), build)


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    pass
