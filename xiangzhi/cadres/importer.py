"""Roster import (干部花名册导入): an uploaded .xlsx/.xls/.csv becomes cadres and their
current posts in one township or village, all or nothing, inline (rosters are small: more
than ``MAX_ROWS`` rows are refused with a message).

1. The file is read with the roster register (``registers.ROSTER``): header found among the
   first rows by the known names and their synonyms, blank/example/trailer rows skipped.
2. EVERY row is checked first — cell formats (dates such as ``1987.07.13`` and Excel serial
   numbers are read; ``1987.02.30`` is not), the unit (a village of the chosen township, or
   the township itself), the service's own field rules (a birth date making a cadre 12 years
   old, …), posts (title needs a start and vice versa), duplicates inside the file (same
   unit, name and birth date). Errors come back per row and column, in Chinese.
3. Only if there is no error: one transaction. A cadre already on the roster — natural key
   (unit, name, birth date) — is updated where a field changed; a new one is created; a
   post is added unless the cadre already holds that title in that unit. Importing the same
   file again changes nothing. Writes go through ``services`` (each audited) plus one
   audit event for the run (counts, file name, SHA-256; no personal data).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from xiangzhi import audit
from xiangzhi.core import periods
from xiangzhi.core.registers import RegisterError, read_table
from xiangzhi.org.models import Region

from . import selectors, services
from .metrics import age_on
from .models import Cadre, Post
from .registers import ROSTER, title_flags

PERM = "cadres.add_cadre"
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
UNREADABLE = "无法读取该文件，请上传 .xlsx/.xls/.csv 格式的表格文件"
FIELD_HEADERS = {
    "name": "姓名",
    "sex": "性别",
    "birth_date": "出生日期",
    "education": "学历",
    "establishment": "编制",
    "area_code": "单位",
    "title": "职务",
    "start": "任职时间",
    "end": "任职时间",
    "joined_on": "参加工作时间",
}
ROSTER_HEADER = {c.key: c.header for c in ROSTER.columns}


@dataclass
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    file_name: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    posts_added: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Abort(Exception):
    def __init__(self, errors: list[RowError]):
        self.errors = errors


def import_areas(user) -> list[dict]:
    return selectors.unit_areas(user, PERM, levels=("township", "village"))


def _display_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    return "".join(ch for ch in name if ch.isprintable())[:200] or "未命名文件"


def _variants(name: str) -> set[str]:
    out = {name}
    for suffix in ("村民委员会", "居民委员会", "村委会", "居委会", "社区居委会"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            out |= {base, base + "村", base + "社区"}
    if name.endswith("村") or name.endswith("社区"):
        out.add(name.removesuffix("村").removesuffix("社区"))
    return {v for v in out if v}


def unit_lookup(area: Region) -> tuple[dict[str, str], str]:
    """(name variant → unit code, default unit for a blank cell) for the chosen area."""
    lookup: dict[str, str] = {}
    if area.level == "township":
        for v in _variants(area.name) | _variants(area.official_name) | {"镇机关", "乡机关", "镇政府", "乡政府"}:
            lookup[v] = area.code
        villages = Region.objects.filter(parent_id=area.code, level="village", is_active=True)
    else:
        villages = [area]
    for r in villages:
        for v in _variants(r.name) | _variants(r.official_name or r.name):
            lookup.setdefault(v, r.code)
    return lookup, area.code


def _store(uploaded) -> tuple[Path, str]:
    folder = Path(settings.UPLOAD_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    ext = os.path.splitext(uploaded.name or "")[1].lower()
    fd, name = tempfile.mkstemp(prefix="cadres-", suffix=ext, dir=folder)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as fh:
        for chunk in uploaded.chunks():
            size += len(chunk)
            if size > MAX_BYTES:
                fh.close()
                Path(name).unlink(missing_ok=True)
                raise ValidationError({"file": f"文件过大：花名册文件不能超过 {MAX_BYTES // 1024 // 1024} MB"})
            digest.update(chunk)
            fh.write(chunk)
    return Path(name), digest.hexdigest()


def roster_import(*, actor, area_code: str, uploaded) -> ImportResult:
    """Check the whole file, then write all of it or nothing (see module doc). File-level
    problems raise ``ValidationError`` ({"area_code"|"file": message}); row problems come
    back in ``result.errors`` with nothing written."""
    allowed = {a["code"] for a in import_areas(actor)}
    if area_code not in allowed:
        raise ValidationError({"area_code": "请选择要导入到的乡镇或村（须在您的管辖范围内）"})
    if uploaded is None:
        raise ValidationError({"file": "请选择要上传的文件"})
    name = _display_name(uploaded.name)
    if os.path.splitext(name)[1].lower() not in (".xlsx", ".xls", ".csv"):
        raise ValidationError({"file": UNREADABLE})
    if uploaded.size is not None and uploaded.size > MAX_BYTES:
        raise ValidationError({"file": f"文件过大：花名册文件不能超过 {MAX_BYTES // 1024 // 1024} MB"})
    path, sha256 = _store(uploaded)
    try:
        try:
            table = read_table(ROSTER, path, name, max_rows=MAX_ROWS)
        except RegisterError as exc:
            raise ValidationError({"file": str(exc)}) from None
        except Exception:  # noqa: BLE001 - a parser crash on a broken file is "unreadable"
            raise ValidationError({"file": UNREADABLE}) from None
    finally:
        path.unlink(missing_ok=True)
    if not table.rows:
        raise ValidationError({"file": "文件中没有数据行（表头下方为空）"})
    area = Region.objects.get(code=area_code)
    result = ImportResult(file_name=name, rows=len(table.rows))
    prepared = _check(table, area, result)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            _write(actor, prepared, result)
            audit.record(
                actor,
                "cadres.roster_import",
                ("cadres.cadre", ""),
                area_code=area_code,
                file=name,
                sha256=sha256,
                rows=result.rows,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
                posts_added=result.posts_added,
            )
    except _Abort as exc:
        result.errors = exc.errors
        result.created = result.updated = result.unchanged = result.posts_added = 0
    return result


def _check(table, area: Region, result: ImportResult) -> list[dict]:
    today = periods.local_today()
    lookup, default_unit = unit_lookup(area)
    headers = table.headers
    seen: dict[tuple, int] = {}
    prepared = []

    def err(row, key, message):
        result.errors.append(
            RowError(row, headers.get(key, FIELD_HEADERS.get(key, ROSTER_HEADER.get(key, key))), message)
        )

    for row in table.rows:
        values, cell_errors = ROSTER.parse_row(row, headers)
        for column, message in cell_errors:
            result.errors.append(RowError(row.number, column, message))
        unit_text = values.get("unit", "")
        unit = lookup.get(unit_text) if unit_text else default_unit
        if unit is None:
            where = "所选村" if area.level == "village" else f"{area.name}的村（社区）"
            err(row.number, "unit", f"单位“{unit_text[:20]}”不是{where}，请填写正确的村名（镇干部可留空）")
            continue
        if cell_errors:
            continue
        establishment = values.get("establishment") or ""
        if not establishment:
            if len(unit) == 12:
                establishment = "village"
            else:
                err(row.number, "establishment", "镇干部请填写编制（行政编制、事业编制、三支一扶或其他）")
                continue
        fields = {
            "area_code": unit,
            "name": values["name"],
            "sex": values["sex"],
            "birth_date": values["birth_date"],
            "education": values["education"],
            "establishment": establishment,
        }
        problems = services.validate_cadre_fields(**fields, on=today)
        for key, message in problems.items():
            err(row.number, key, message)
        if problems:
            continue
        title, start = values.get("title") or "", values.get("start")
        joined_on = values.get("joined_on")
        if title and not start:
            err(row.number, "start", "填写了职务，请同时填写任职时间")
        elif start and not title:
            err(row.number, "title", "填写了任职时间，请同时填写职务")
        elif start and start > today:
            err(row.number, "start", "任职时间不能晚于今天")
        elif start and age_on(fields["birth_date"], start) < services.MIN_AGE:
            err(row.number, "start", f"按出生日期，任职时未满 {services.MIN_AGE} 岁，请核对")
        if joined_on and joined_on > today:
            err(row.number, "joined_on", "参加工作时间不能晚于今天")
        key = (unit, fields["name"], fields["birth_date"])
        if key in seen:
            err(row.number, "name", f"与第 {seen[key]} 行重复（同一单位同名同出生日期）")
            continue
        seen[key] = row.number
        post = None
        if title and start:
            flags = title_flags(title)
            if values.get("dual_role"):
                flags.update(is_secretary=True, is_director=True)
            post = {
                "title": title,
                "start": start,
                "area_code": unit,
                "leadership": bool(values.get("leadership")),
                **flags,
            }
        prepared.append(
            {
                "row": row.number,
                "fields": fields,
                "party_member": bool(values.get("party")),
                "college_graduate": bool(values.get("college_graduate")),
                "joined_on": joined_on,
                "has_joined": "joined_on" in values,
                "post": post,
            }
        )
    return prepared


def _service(row: int, call):
    try:
        return call()
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"name": exc.messages}
        raise _Abort(
            [RowError(row, FIELD_HEADERS.get(k, ROSTER_HEADER.get(k, "姓名")), m[0]) for k, m in messages.items()]
        ) from None
    except PermissionDenied as exc:
        raise _Abort([RowError(row, "单位", str(exc) or "无权在该单位登记干部")]) from None


def _write(actor, prepared: list[dict], result: ImportResult) -> None:
    keys = {(p["fields"]["area_code"], p["fields"]["name"], p["fields"]["birth_date"]) for p in prepared}
    cond = Q()
    for unit in {k[0] for k in keys}:
        cond |= Q(area_code=unit, name__in=[k[1] for k in keys if k[0] == unit])
    existing = {(c.area_code, c.name, c.birth_date): c for c in Cadre.objects.filter(cond)} if keys else {}
    today = periods.local_today()
    held: dict[int, set] = {}
    if existing:
        for cadre_id, title, unit in (
            Post.objects.filter(cadre__in=list(existing.values()))
            .filter(selectors.current_posts_q(today))
            .values_list("cadre_id", "title", "area_code")
        ):
            held.setdefault(cadre_id, set()).add((title, unit))
    for p in prepared:
        f = p["fields"]
        cadre = existing.get((f["area_code"], f["name"], f["birth_date"]))
        if cadre is None:
            _service(p["row"], lambda p=p, f=f: services.cadre_create(
                actor=actor, party_member=p["party_member"], college_graduate=p["college_graduate"],
                joined_on=p["joined_on"], posts=[p["post"]] if p["post"] else [], **f,
            ))  # fmt: skip
            result.created += 1
            result.posts_added += 1 if p["post"] else 0
            continue
        joined_on = p["joined_on"] if p["has_joined"] and p["joined_on"] else cadre.joined_on
        changed = _service(p["row"], lambda p=p, f=f, cadre=cadre, joined_on=joined_on: services.cadre_update(
            actor=actor, cadre=cadre, name=f["name"], sex=f["sex"], birth_date=f["birth_date"],
            education=f["education"], establishment=f["establishment"], party_member=p["party_member"],
            college_graduate=p["college_graduate"], joined_on=joined_on, left_on=cadre.left_on,
        ))  # fmt: skip
        added = False
        post = p["post"]
        if post and (post["title"], post["area_code"]) not in held.get(cadre.pk, set()):
            _service(p["row"], lambda cadre=cadre, post=post: services.post_add(actor=actor, cadre=cadre, **post))
            held.setdefault(cadre.pk, set()).add((post["title"], post["area_code"]))
            added = True
            result.posts_added += 1
        if changed or added:
            result.updated += 1
        else:
            result.unchanged += 1
