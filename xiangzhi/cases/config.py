"""Configuration of the case engine by the township: the category tree and the per-level
time limits of disputes and needs. Every write is a keyword-only, atomic, audited service.

Categories with a blank ``township_code`` are the shared default set (every township sees
them); a township adds its own (top-level or under a shared parent). Only a user whose
``cases.configure_case`` scope covers a whole county may change the shared set.
"""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from xiangzhi import audit
from xiangzhi.core.scoping import can_in_area, scopes_for
from xiangzhi.core.text import clean_text

from . import deadlines
from .choices import DEFAULT_CATEGORIES, SUB_CATEGORY_NAMES, Kind, Level
from .models import Category, DeadlinePolicy

PERM = "cases.configure_case"
CONFIGURABLE_KINDS = [Kind.DISPUTE, Kind.NEED]  # petitions run on the statutory clock
MAX_CATEGORY_NAME = 50
YELLOW_MIN, YELLOW_MAX = Decimal("0.10"), Decimal("0.95")


# --- who may configure what --------------------------------------------------------------
def configurable_prefixes(user) -> list[str]:
    areas, _ = scopes_for(user, PERM)
    return areas


def can_configure_township(user, township_code: str) -> bool:
    return len(township_code) == 9 and can_in_area(user, PERM, township_code)


def can_configure_shared(user) -> bool:
    """The shared default set is county-wide: only a county-level configure scope."""
    return any(len(p) <= 6 for p in configurable_prefixes(user))


def _check_category_write(actor, township_code: str) -> None:
    if township_code:
        if not can_configure_township(actor, township_code):
            raise PermissionDenied("无权维护该乡镇的事项分类")
    elif actor is not None and not can_configure_shared(actor):
        raise PermissionDenied("通用分类由县级统一维护，乡镇可添加本镇分类")


# --- categories -------------------------------------------------------------------------
@transaction.atomic
def categories_ensure_defaults(*, actor=None) -> int:
    """Create the default category tree (choices.DEFAULT_CATEGORIES) where missing.
    Idempotent: existing rows (even renamed or deactivated ones) are left as they are.
    Returns the number of rows created."""
    created = 0
    existing = dict(Category.objects.filter(township_code="").values_list("code", "pk"))
    for sort, (code, name, children) in enumerate(DEFAULT_CATEGORIES, start=1):
        parent_pk = existing.get(code)
        if parent_pk is None:
            parent_pk = Category.objects.create(code=code, name=name, township_code="", sort=sort * 10).pk
            existing[code] = parent_pk
            created += 1
        for child_sort, child in enumerate(children, start=1):
            if child not in existing:
                existing[child] = Category.objects.create(
                    code=child,
                    name=SUB_CATEGORY_NAMES.get(child, child),
                    parent_id=parent_pk,
                    township_code="",
                    sort=sort * 10 + child_sort,
                ).pk
                created += 1
    if created:
        audit.record(actor, "cases.categories_defaults", None, created=created)
    return created


def categories_for(township_codes=(), *, active_only: bool = True):
    """Categories visible to the given townships (shared set + their own), parents first."""
    qs = Category.objects.filter(Q(township_code="") | Q(township_code__in=list(township_codes)))
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.select_related("parent").order_by("sort", "code", "id")


def category_tree(categories) -> list[tuple[Category, list[Category]]]:
    """[(top-level category, [children])] from a flat list (no queries)."""
    tops = [c for c in categories if c.parent_id is None]
    children: dict[int, list] = {}
    for c in categories:
        if c.parent_id is not None:
            children.setdefault(c.parent_id, []).append(c)
    known = {c.pk for c in tops}
    tree = [(t, children.get(t.pk, [])) for t in tops]
    # children whose parent is not in the list (parent inactive) still show, on their own
    orphans = [c for c in categories if c.parent_id is not None and c.parent_id not in known]
    tree += [(c, []) for c in orphans]
    return tree


def _clean_name(name) -> str:
    text = clean_text(name)
    if not text:
        raise ValidationError({"name": "请填写分类名称"})
    if len(text) > MAX_CATEGORY_NAME:
        raise ValidationError({"name": f"分类名称过长（最多 {MAX_CATEGORY_NAME} 个字）"})
    return text


def _name_taken(name: str, township_code: str, parent, exclude_pk=None) -> bool:
    qs = Category.objects.filter(name=name, parent=parent).filter(Q(township_code="") | Q(township_code=township_code))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


@transaction.atomic
def category_add(*, actor, township_code: str, name: str, parent: Category | None = None) -> Category:
    """Add a category for a township (``township_code`` blank = the shared set)."""
    township_code = township_code or ""
    name = _clean_name(name)
    _check_category_write(actor, township_code)
    if parent is not None:
        if parent.parent_id is not None:
            raise ValidationError({"parent": "分类最多两级，请选择一级分类作为上级"})
        if parent.township_code not in ("", township_code):
            raise ValidationError({"parent": "上级分类不属于该乡镇"})
        if not township_code and parent.township_code:
            raise ValidationError({"parent": "通用分类不能放在乡镇分类之下"})
    if _name_taken(name, township_code, parent):
        raise ValidationError({"name": f"已有同名分类“{name}”"})
    sort = (parent.sort if parent else 900) + 1
    category = Category.objects.create(
        code=f"c{secrets.token_hex(5)}", name=name, parent=parent, township_code=township_code, sort=sort
    )
    audit.record(
        actor,
        "cases.category_add",
        category,
        area_code=township_code,
        name=name,
        parent_id=parent.pk if parent else None,
    )
    return category


@transaction.atomic
def category_rename(*, actor, category: Category, name: str) -> Category:
    name = _clean_name(name)
    category = Category.objects.select_for_update().get(pk=category.pk)
    _check_category_write(actor, category.township_code)
    if name == category.name:
        return category
    if _name_taken(name, category.township_code, category.parent, exclude_pk=category.pk):
        raise ValidationError({"name": f"已有同名分类“{name}”"})
    old = category.name
    category.name = name
    category.save(update_fields=["name"])
    audit.record(actor, "cases.category_rename", category, area_code=category.township_code, old=old, new=name)
    return category


@transaction.atomic
def category_set_active(*, actor, category: Category, active: bool) -> Category:
    """Deactivate (no longer offered for new cases; existing cases keep it) or re-activate.
    Deactivating a parent deactivates its children too."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    _check_category_write(actor, category.township_code)
    if active and category.parent_id and not category.parent.is_active:
        raise ValidationError({"is_active": "请先启用上级分类"})
    category.is_active = bool(active)
    category.save(update_fields=["is_active"])
    children = 0
    if not active:
        children = Category.objects.filter(parent=category, is_active=True).update(is_active=False)
    audit.record(
        actor,
        "cases.category_activate" if active else "cases.category_deactivate",
        category,
        area_code=category.township_code,
        children=children,
    )
    return category


# --- deadline policies ------------------------------------------------------------------
def deadline_rows(township_code: str) -> list[dict]:
    """The effective limits of a township (its rows, or the defaults), one per kind × level."""
    rows = {(p.kind, p.level): p for p in DeadlinePolicy.objects.filter(township_code=township_code)}
    out = []
    for kind in CONFIGURABLE_KINDS:
        for level in Level:
            p = rows.get((kind, level.value))
            out.append(
                {
                    "kind": kind.value if hasattr(kind, "value") else kind,
                    "kind_label": Kind(kind).label,
                    "level": level.value,
                    "level_label": level.label,
                    "days": p.days if p else deadlines.DEFAULT_LIMITS[level],
                    "working_days": p.working_days if p else False,
                    "yellow_share": p.yellow_share if p else deadlines.DEFAULT_YELLOW_SHARE,
                    "is_default": p is None,
                }
            )
    return out


def _parse_days(value, key: str) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({key: "时限应为整数天数"})
    if not 1 <= days <= 365:
        raise ValidationError({key: "时限应在 1 至 365 天之间"})
    return days


def _parse_share(value, key: str) -> Decimal:
    try:
        share = Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise ValidationError({key: "预警比例应为数字"})
    if share > 1:  # given as a percentage
        share = share / 100
    share = share.quantize(Decimal("0.01"))
    if not YELLOW_MIN <= share <= YELLOW_MAX:
        raise ValidationError({key: "黄色预警比例应在 10% 至 95% 之间"})
    return share


@transaction.atomic
def deadline_policies_save(*, actor, township_code: str, rows) -> int:
    """Set a township's limits for disputes and needs. ``rows``: iterable of dicts
    {kind, level, days, working_days, yellow_share}. All rows are validated first; one bad
    value writes nothing. Cases already at a level keep the clock they started with.
    Returns the number of rows changed."""
    if not can_configure_township(actor, township_code):
        raise PermissionDenied("无权设置该乡镇的办理时限")
    errors, parsed = {}, []
    for row in rows:
        kind, level = row.get("kind"), row.get("level")
        if kind not in [k.value for k in CONFIGURABLE_KINDS] or level not in Level.values:
            errors["__all__"] = "时限设置项无效"
            continue
        key = f"{kind}-{level}"
        try:
            days = _parse_days(row.get("days"), f"{key}-days")
            share = _parse_share(row.get("yellow_share"), f"{key}-yellow_share")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
            continue
        parsed.append((kind, level, days, bool(row.get("working_days")), share))
    if errors:
        raise ValidationError(errors)
    changed = 0
    existing = {
        (p.kind, p.level): p for p in DeadlinePolicy.objects.select_for_update().filter(township_code=township_code)
    }
    for kind, level, days, working, share in parsed:
        p = existing.get((kind, level))
        if p and (p.days, p.working_days, p.yellow_share) == (days, working, share):
            continue
        if p is None and (days, working, share) == (
            deadlines.DEFAULT_LIMITS[level],
            False,
            deadlines.DEFAULT_YELLOW_SHARE,
        ):
            continue
        before = {"days": p.days, "working_days": p.working_days, "yellow_share": str(p.yellow_share)} if p else None
        DeadlinePolicy.objects.update_or_create(
            township_code=township_code,
            kind=kind,
            level=level,
            defaults={"days": days, "working_days": working, "yellow_share": share},
        )
        audit.record(
            actor,
            "cases.deadline_policy",
            None,
            area_code=township_code,
            kind=kind,
            level=level,
            before=before,
            after={"days": days, "working_days": working, "yellow_share": str(share)},
        )
        changed += 1
    return changed
