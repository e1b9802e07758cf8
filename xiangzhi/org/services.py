"""Writes to the division tree: importing official divisions, creating local grids."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from xiangzhi import audit
from xiangzhi.core.scoping import can_in_area
from xiangzhi.core.text import clean_text

from . import divisions
from .models import Level, Region

DATA_FILE = Path(__file__).resolve().parent / "data" / "divisions_341524.json"


@transaction.atomic
def regions_import(*, actor, rows, source: str = "") -> dict:
    """Upsert official divisions (parents before children). Idempotent: a second run with
    the same rows changes nothing. Returns counts."""
    rows = sorted(rows, key=lambda r: (len(r["code"]), r["code"]))
    existing = {r.code: r for r in Region.objects.filter(code__in=[r["code"] for r in rows])}
    created = updated = 0
    to_create = []
    for row in rows:
        name = row.get("short_name") or divisions.short_name(row["name"])
        region = existing.get(row["code"])
        if region is None:
            to_create.append(
                Region(code=row["code"], name=name, official_name=row["name"], level=row["level"],
                       parent_id=row.get("parent"))
            )
            created += 1
        elif (region.name, region.official_name, region.level, region.parent_id) != (
            name, row["name"], row["level"], row.get("parent")
        ):
            region.name, region.official_name, region.level, region.parent_id = (
                name, row["name"], row["level"], row.get("parent"),
            )
            region.save()
            updated += 1
    # parents first: rows are sorted by code length
    Region.objects.bulk_create(to_create, batch_size=2000)
    if created or updated:
        audit.record(actor, "org.regions_import", ("org.region", source or "-"), created=created, updated=updated)
    return {"created": created, "updated": updated, "total": len(rows)}


def regions_import_shipped(*, actor=None) -> dict:
    header, rows = divisions.load_data_file(DATA_FILE)
    return regions_import(actor=actor, rows=rows, source=f"{header['source']['package']}@{header['source']['version']}")


@transaction.atomic
def grid_create(*, actor, village_code: str, name: str, note: str = "") -> Region:
    name = clean_text(name)
    if not name:
        raise ValidationError({"name": "请填写网格名称"})
    if len(name) > 100:
        raise ValidationError({"name": "网格名称过长"})
    village = Region.objects.select_for_update().filter(code=village_code, level=Level.VILLAGE).first()
    if village is None:
        raise ValidationError({"village_code": "请选择有效的村（社区）"})
    if actor is not None and not can_in_area(actor, "org.add_region", village_code):
        raise PermissionDenied("无权在该村设置网格")
    siblings = Region.objects.filter(parent=village, level=Level.GRID)
    if siblings.filter(name=name).exists():
        raise ValidationError({"name": "本村已有同名网格"})
    used = {int(c[-3:]) for c in siblings.values_list("code", flat=True)}
    number = next(n for n in range(1, 1000) if n not in used) if len(used) < 999 else None
    if number is None:
        raise ValidationError({"name": "本村网格数已达上限（999）"})
    grid = Region.objects.create(
        code=f"{village_code}{number:03d}", name=name, official_name=name, level=Level.GRID, parent=village,
        note=clean_text(note)[:200],
    )
    audit.record(actor, "org.grid_create", grid)
    return grid


@transaction.atomic
def grid_update(*, actor, grid: Region, name: str | None = None, note: str | None = None,
                is_active: bool | None = None) -> Region:
    if grid.level != Level.GRID:
        raise ValidationError({"code": "只能修改网格"})
    if actor is not None and not can_in_area(actor, "org.change_region", grid.code):
        raise PermissionDenied("无权修改该网格")
    changed = []
    if name is not None:
        name = clean_text(name)
        if not name:
            raise ValidationError({"name": "请填写网格名称"})
        if Region.objects.filter(parent_id=grid.parent_id, name=name).exclude(code=grid.code).exists():
            raise ValidationError({"name": "本村已有同名网格"})
        if name != grid.name:
            grid.name = grid.official_name = name[:100]
            changed.append("name")
    if note is not None and clean_text(note)[:200] != grid.note:
        grid.note = clean_text(note)[:200]
        changed.append("note")
    if is_active is not None and is_active != grid.is_active:
        grid.is_active = is_active
        changed.append("is_active")
    if changed:
        grid.save()
        audit.record(actor, "org.grid_update", grid, fields=changed)
    return grid
