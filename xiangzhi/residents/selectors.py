"""Every read of the registry, always scoped by ``restrict(user, action)``."""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404

from xiangzhi.core import crypto, idcard
from xiangzhi.core.masking import mask_id_number, mask_phone
from xiangzhi.core.pinyin import normalize_query
from xiangzhi.core.scoping import perm_name, prefix_q, scopes_for
from xiangzhi.org.models import Region

from .models import Household, Resident, SearchKey

LAST4 = re.compile(r"^\d{3}[\dXx]$")


def households_for(user, action: str = "view"):
    return Household.objects.restrict(user, action)


def residents_for(user, action: str = "view"):
    return Resident.objects.restrict(user, action)


def household_list(*, user, q: str = "", area_code: str = "", tag: str = "", action: str = "view"):
    """Households in the user's scope, filtered. ``q`` matches a member's name prefix, its
    pinyin or initials (lcx → 刘长喜), the household number, or the last 4 ID digits.
    Full ID numbers are looked up with ``resident_find_by_id_number`` (POST only)."""
    qs = households_for(user, action)
    if area_code:
        qs = qs.filter(prefix_q("area_code", area_code))
    if tag:
        member_tag = Resident.objects.filter(tags__contains=f",{tag},").values("household_id")
        qs = qs.filter(Q(tags__contains=f",{tag},") | Q(pk__in=member_tag))
    q = normalize_query(q)
    if q:
        areas = [area_code] if area_code else scopes_for(user, perm_name(Household, action))[0]
        qs = qs.filter(_household_query(q, areas, within=qs))
    return qs.order_by("area_code", "number", "id")


def _keys_in(q: str, areas, *, within=None) -> object:
    """Search keys starting with ``q`` inside ``areas``, always through the (township, key)
    index: inside a township an index seek whose cost follows the matches in that township;
    a county or city scope is the list of its townships (one seek each). With no area scope
    (own-row users) the keys of the ``within`` rows (households or residents) are read."""
    keys = SearchKey.objects.filter(key__gte=q, key__lt=q + "\uffff")
    areas = [a for a in areas if a]
    if not areas:
        if within is None:
            return keys.none()
        field = "household_id" if within.model is Household else "resident_id"
        return keys.filter(**{f"{field}__in": within.order_by().values("pk")})
    cond = Q()
    wide = [a for a in areas if len(a) < 9]
    if wide:
        tq = Q()
        for a in wide:
            tq |= prefix_q("code", a)
        townships = list(Region.objects.filter(tq, level="township").values_list("code", flat=True))
        cond |= Q(township__in=townships)
    for a in areas:
        if len(a) >= 9:
            cond |= Q(township=a[:9]) & (prefix_q("area_code", a) if len(a) > 9 else Q())
    return keys.filter(cond)


def _household_query(q: str, areas=(), within=None) -> Q:
    """Households with a member key starting with ``q``, or numbered ``q``, or (4 digits)
    with a member whose ID ends so. One ``pk IN (… UNION …)``: the database looks up the
    matched households by primary key — O(matches) — instead of walking every household of
    the scope to test an ``OR`` of conditions."""
    parts = [Household.objects.filter(number=q).order_by().values("pk")]
    if LAST4.match(q):
        last4 = Resident.objects.filter(id_last4_hash=crypto.blind_index(q.upper(), "id_last4"))
        parts.append(last4.order_by().values("household_id"))
    ids = _keys_in(q, areas, within=within).order_by().values("household_id").union(*parts)
    return Q(pk__in=ids)


def household_get(*, user, pk, action: str = "view") -> Household:
    qs = households_for(user, action).select_related("head")
    return get_object_or_404(qs, pk=pk)


def household_members(*, user, household: Household):
    return residents_for(user).filter(household=household).order_by("id")


def resident_list(*, user, q: str = "", area_code: str = "", tag: str = "", household_id=None, action="view"):
    qs = residents_for(user, action)
    if area_code:
        qs = qs.filter(area_code__startswith=area_code)
    if household_id:
        qs = qs.filter(household_id=household_id)
    if tag:
        qs = qs.filter(tags__contains=f",{tag},")
    q = normalize_query(q)
    if q:
        areas = [area_code] if area_code else scopes_for(user, perm_name(Resident, action))[0]
        cond = Q(pk__in=_keys_in(q, areas, within=qs).values("resident_id"))
        if LAST4.match(q):
            cond |= Q(id_last4_hash=crypto.blind_index(q.upper(), "id_last4"))
        qs = qs.filter(cond)
    return qs.order_by("area_code", "household_id", "id")


def resident_get(*, user, pk, action: str = "view") -> Resident:
    return get_object_or_404(residents_for(user, action).select_related("household"), pk=pk)


def resident_find_by_id_number(*, user, id_number: str) -> Resident | None:
    """Exact lookup through the blind index (the ID never appears in a URL or a log)."""
    try:
        normalized = idcard.validate(id_number)
    except idcard.IdNumberError:
        return None
    return residents_for(user).filter(id_number_hash=crypto.blind_index(normalized, "id_number")).first()


def masked(resident: Resident) -> dict:
    """Masked display values: the birth date never shows."""
    id_number = crypto.decrypt(bytes(resident.id_number_enc)) if resident.id_number_enc else ""
    phone = crypto.decrypt(bytes(resident.phone_enc)) if resident.phone_enc else ""
    return {"id_number": mask_id_number(id_number), "phone": mask_phone(phone)}


def with_members(qs, user):
    return qs.prefetch_related(Prefetch("members", queryset=residents_for(user).order_by("id")))
