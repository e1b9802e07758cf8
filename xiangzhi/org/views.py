"""Regions & grids (区划与网格): a tree browser over the official division tree, restricted to
the user's scope, where village and township administrators define the village's grids."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from xiangzhi.accounts.forms import apply_errors
from xiangzhi.core.scoping import can_in_area, scopes_for
from xiangzhi.core.views import permission_required

from . import selectors, services
from .forms import GridCreateForm, GridUpdateForm
from .models import CODE_LENGTH, Level, Region

LEVEL_LABELS = dict(Level.choices)


def _get(request, code: str) -> Region:
    if not code.isdigit() or len(code) > 15:
        raise Http404
    return selectors.region_get(user=request.user, code=code)


def _children(request, region: Region):
    return list(
        selectors.region_list(user=request.user, parent_code=region.code).annotate(n_children=Count("children"))
    )


@permission_required("org.view_region")
@require_GET
def region_list(request):
    """The top of the user's part of the tree: each scope root with its children."""
    prefixes, _ = scopes_for(request.user, "org.view_region")
    roots = list(selectors.region_list(user=request.user).filter(code__in=prefixes))
    tree = [{"region": root, "children": _children(request, root)} for root in roots]
    return render(request, "org/region_list.html", {"tree": tree, "level_labels": LEVEL_LABELS})


@permission_required("org.view_region")
@require_GET
def region_children(request, code: str):
    """htmx: one more level of the tree under ``code``."""
    region = _get(request, code)
    return render(request, "org/_children.html", {"children": _children(request, region), "parent": region})


def _ancestors(request, region: Region) -> list[dict]:
    areas, _ = scopes_for(request.user, "org.view_region")
    codes = [region.code[:n] for n in sorted(CODE_LENGTH.values()) if n < len(region.code)]
    names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [
        {"code": c, "name": names.get(c, c), "linked": any(c.startswith(p) for p in areas)} for c in codes if c in names
    ]


def _detail(request, region: Region, *, create_form=None, update_form=None, status=200):
    user = request.user
    is_village = region.level == Level.VILLAGE
    is_grid = region.level == Level.GRID
    can_add_grid = is_village and can_in_area(user, "org.add_region", region.code)
    can_change_grid = is_grid and can_in_area(user, "org.change_region", region.code)
    if can_add_grid and create_form is None:
        create_form = GridCreateForm()
    if can_change_grid and update_form is None:
        update_form = GridUpdateForm(
            initial={"name": region.name, "note": region.note, "is_active": region.is_active}, prefix="edit"
        )
    context = {
        "region": region,
        "level_label": LEVEL_LABELS.get(region.level, region.level),
        "ancestors": _ancestors(request, region),
        "children": _children(request, region),
        "level_labels": LEVEL_LABELS,
        "create_form": create_form if can_add_grid else None,
        "update_form": update_form if can_change_grid else None,
    }
    return render(request, "org/region_detail.html", context, status=status)


@permission_required("org.view_region")
@require_GET
def region_detail(request, code: str):
    return _detail(request, _get(request, code))


@permission_required("org.add_region")
@require_POST
def grid_create(request, code: str):
    village = _get(request, code)
    if village.level != Level.VILLAGE:
        raise Http404
    form = GridCreateForm(request.POST)
    if form.is_valid():
        try:
            grid = services.grid_create(
                actor=request.user,
                village_code=village.code,
                name=form.cleaned_data["name"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已创建网格“{grid.name}”（{grid.code}）。")
            return redirect("org:region_detail", code=village.code)
    return _detail(request, village, create_form=form)


@permission_required("org.change_region")
@require_POST
def grid_update(request, code: str):
    grid = _get(request, code)
    if grid.level != Level.GRID:
        raise Http404
    form = GridUpdateForm(request.POST, prefix="edit")
    if form.is_valid():
        try:
            services.grid_update(
                actor=request.user,
                grid=grid,
                name=form.cleaned_data["name"],
                note=form.cleaned_data["note"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "网格已保存。")
            return redirect("org:region_detail", code=grid.code)
    return _detail(request, grid, update_form=form)
