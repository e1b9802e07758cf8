"""Roster import (户籍花名册导入): an uploaded .xlsx/.xls/.csv becomes households and
residents of one village, all or nothing.

1. ``start_import`` stores the upload under settings.UPLOAD_DIR, reads it once for
   file-level problems (type, encoding, header, size) and creates an ``ImportJob``; small
   files run inline, files with more than settings.IMPORT_BACKGROUND_ROWS rows go to the
   task worker (``tasks.import_roster``).
2. ``run_job`` validates EVERY row first (cell formats, ID check digits, duplicates in the
   file, people registered elsewhere — one blind-index query per 2,000 IDs —, exactly one
   head per household, grids of the village, scope) and collects a per-row report
   (row number as in the sheet, column header, Chinese reason).
3. Only if there is no error: one transaction creates new households through
   ``bulk.create_households`` and updates existing people (natural key: ID blind index)
   and households (natural key: village + 户号) only where something changed — so
   re-importing the same file changes nothing. One audit event per run (counts, file
   name, SHA-256; no personal data). The stored upload is deleted when the run ends.

Progress is kept in the cache (not the database) so that the job page can follow it while
the write transaction is open.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import crypto, idcard
from xiangzhi.core.registers import RegisterError, Table, read_table
from xiangzhi.core.scoping import can_in_area
from xiangzhi.org.models import Region

from .bulk import HouseholdRow, PersonRow, create_households
from .choices import HOUSEHOLD_TAGS, RESIDENT_TAGS, TAG_BY_LABEL, Relation, ResidentStatus, tags_from_db, tags_to_db
from .models import Household, ImportJob, Resident, SearchKey
from .registers import ROSTER, split_tags
from .services import personal_fields, search_key_rows

log = logging.getLogger(__name__)

PERM = "residents.import_household"
MAX_ROWS = 100_000
MAX_STORED_ERRORS = 2000
LOOKUP_CHUNK = 2000
PROGRESS_TTL = 6 * 3600
TOO_LARGE = "文件过大：单个文件不能超过 {mb} MB，请拆分后分批导入"


def max_mb() -> int:
    return max(1, settings.IMPORT_MAX_BYTES // (1024 * 1024))


# --- areas ---------------------------------------------------------------------------------
def import_areas(user) -> list[dict]:
    """Villages and grids the user may import into (``residents.import_household``)."""
    from xiangzhi.core.scoping import scopes_for

    prefixes, _ = scopes_for(user, PERM)
    if not prefixes:
        return []
    from django.db.models import Q

    cond = Q()
    for p in prefixes:
        cond |= Q(code__startswith=p)
    rows = list(
        Region.objects.filter(cond, level__in=("village", "grid"), is_active=True)
        .order_by("code")
        .values_list("code", "name", "level")
    )
    villages = {code: name for code, name, level in rows if level == "village"}
    missing = {code[:12] for code, _, level in rows if level == "grid" and code[:12] not in villages}
    if missing:
        villages.update(Region.objects.filter(code__in=missing).values_list("code", "name"))
    out = []
    for code, name, level in rows:
        label = name if level == "village" else f"{villages.get(code[:12], code[:12])} · {name}"
        out.append({"code": code, "name": name, "level": level, "label": label})
    return out


# --- progress (cache) ------------------------------------------------------------------------
def progress_key(job_id: int) -> str:
    return f"xz:import-progress:{job_id}"


def set_progress(job_id: int, phase: str, done: int, total: int) -> None:
    cache.set(progress_key(job_id), {"phase": phase, "done": done, "total": total}, PROGRESS_TTL)


def get_progress(job: ImportJob) -> dict:
    data = cache.get(progress_key(job.pk)) or {}
    total = data.get("total") or job.total_rows or 0
    done = data.get("done") or 0
    if job.status == ImportJob.Status.DONE:
        done = total
    percent = int(done * 100 / total) if total else (100 if job.finished else 0)
    return {"phase": data.get("phase", ""), "done": done, "total": total, "percent": min(percent, 100)}


# --- upload --------------------------------------------------------------------------------
def _upload_dir() -> Path:
    path = Path(settings.UPLOAD_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(uploaded) -> tuple[Path, str, int]:
    ext = os.path.splitext(uploaded.name or "")[1].lower()
    target = _upload_dir() / f"{uuid.uuid4().hex}{ext}"
    digest = hashlib.sha256()
    size = 0
    with open(target, "wb") as fh:
        for chunk in uploaded.chunks():
            size += len(chunk)
            if size > settings.IMPORT_MAX_BYTES:
                fh.close()
                target.unlink(missing_ok=True)
                raise RegisterError(TOO_LARGE.format(mb=max_mb()))
            digest.update(chunk)
            fh.write(chunk)
    return target, digest.hexdigest(), size


def _read(path, filename: str) -> Table:
    return read_table(ROSTER, path, filename, max_rows=MAX_ROWS)


def _display_name(name: str) -> str:
    name = os.path.basename((name or "").replace("\\", "/"))
    return "".join(ch for ch in name if ch.isprintable())[:200] or "未命名文件"


@transaction.atomic
def job_create(
    *, actor, area_code: str, file_name: str, stored_path: str, sha256: str, size: int, rows: int, background: bool
) -> ImportJob:
    return ImportJob.objects.create(
        area_code=area_code,
        created_by=actor,
        file_name=file_name,
        stored_path=stored_path,
        file_sha256=sha256,
        file_size=size,
        total_rows=rows,
        background=background,
    )


def start_import(*, actor, area_code: str, uploaded) -> ImportJob:
    """Store the upload, check it, create the job and run it (inline or in the worker).
    Raises ``ValidationError`` (field errors) for a bad area or file; nothing is kept then."""
    allowed = {a["code"] for a in import_areas(actor)}
    if area_code not in allowed:
        raise ValidationError({"area_code": "请选择要导入到的村或网格（须在您的管辖范围内）"})
    if uploaded is None:
        raise ValidationError({"file": "请选择要上传的文件"})
    if uploaded.size is not None and uploaded.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError({"file": TOO_LARGE.format(mb=max_mb())})
    name = _display_name(uploaded.name)
    try:
        ext = os.path.splitext(name)[1].lower()
        if ext not in (".xlsx", ".xls", ".csv"):
            raise RegisterError("无法读取该文件，请上传 .xlsx/.xls/.csv 格式的表格文件")
        path, sha256, size = _store(uploaded)
    except RegisterError as exc:
        raise ValidationError({"file": str(exc)}) from None
    try:
        table = _read(path, name)
    except RegisterError as exc:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": str(exc)}) from None
    except Exception:  # noqa: BLE001 - a parser crash on a broken file is the user's "unreadable"
        path.unlink(missing_ok=True)
        log.warning("roster upload could not be read")
        raise ValidationError({"file": "无法读取该文件，请上传 .xlsx/.xls/.csv 格式的表格文件"}) from None
    if not table.rows:
        path.unlink(missing_ok=True)
        raise ValidationError({"file": "文件中没有数据行（表头下方为空）"})
    background = len(table.rows) > settings.IMPORT_BACKGROUND_ROWS
    relative = str(path.relative_to(Path(settings.UPLOAD_DIR)))
    job = job_create(
        actor=actor,
        area_code=area_code,
        file_name=name,
        stored_path=relative,
        sha256=sha256,
        size=size,
        rows=len(table.rows),
        background=background,
    )
    set_progress(job.pk, "排队中", 0, len(table.rows))
    if background:
        from .tasks import import_roster

        try:
            import_roster.enqueue(job.pk)
        except Exception as exc:  # noqa: BLE001 - the worker queue is unavailable: run here
            log.warning("import job %s: enqueue failed (%s), running inline", job.pk, type(exc).__name__)
            run_job(job.pk)
    else:
        run_job(job.pk, table=table)
    job.refresh_from_db()
    return job


# --- the run -------------------------------------------------------------------------------
def run_job(job_id: int, *, table: Table | None = None) -> ImportJob | None:
    """Run one queued job to the end (validation, then all-or-nothing write)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    path = Path(settings.UPLOAD_DIR) / job.stored_path if job.stored_path else None
    try:
        if table is None:
            if path is None or not path.exists():
                raise RegisterError("上传的文件已不存在，请重新上传")
            table = _read(path, job.file_name)
        result = import_table(actor=job.created_by, area_code=job.area_code, table=table, job=job)
        _finish(job, result)
    except RegisterError as exc:
        _fail(job, str(exc))
    except PermissionDenied:
        _fail(job, "您已没有在该区域导入的权限")
    except Exception as exc:  # noqa: BLE001 - never leave a job running; log without personal data
        log.error("import job %s failed: %s", job.pk, type(exc).__name__)
        _fail(job, "导入过程中发生错误，未写入任何数据。请稍后重试或联系管理员。")
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, message=message[:500], finished_at=timezone.now(), stored_path=""
    )


def _finish(job: ImportJob, result: ImportResult) -> None:
    ok = not result.errors
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE if ok else ImportJob.Status.FAILED,
        processed_rows=result.total_rows,
        total_rows=result.total_rows,
        households_created=result.households_created,
        residents_created=result.residents_created,
        households_updated=result.households_updated,
        residents_updated=result.residents_updated,
        error_count=len(result.errors),
        errors=[e.as_dict() for e in result.errors[:MAX_STORED_ERRORS]],
        message="" if ok else f"发现 {len(result.errors)} 处错误，未写入任何数据。请修改后重新上传。",
        finished_at=timezone.now(),
        stored_path="",
    )


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    total_rows: int = 0
    households_created: int = 0
    residents_created: int = 0
    households_updated: int = 0
    residents_updated: int = 0
    errors: list[RowError] = field(default_factory=list)


@dataclass
class Person:
    row: int
    name: str = ""
    id_number: str = ""
    id_hash: str = ""
    relation: str = ""
    phone: str | None = None
    tags: set = field(default_factory=set)
    replace_tags: bool = False
    valid: bool = True


@dataclass
class Group:
    key: str
    number: str
    first_row: int
    people: list[Person] = field(default_factory=list)
    area_code: str = ""
    area_row: int = 0
    address: str = ""
    address_from_head: bool = False
    tags: set = field(default_factory=set)
    replace_tags: bool = False
    head_claims: list = field(default_factory=list)  # (row, name)
    household: dict | None = None  # matched existing household


def import_table(*, actor, area_code: str, table: Table, job: ImportJob | None = None) -> ImportResult:
    """Validate every row, then write everything or nothing. Returns the counts and the
    per-row errors (non-empty errors = nothing written)."""
    if actor is None or not can_in_area(actor, PERM, area_code):
        raise PermissionDenied("无权在该区域导入")
    target = Region.objects.filter(code=area_code, level__in=("village", "grid"), is_active=True).first()
    if target is None:
        raise RegisterError("请选择有效的村或网格")
    job_id = job.pk if job else None
    result = ImportResult(total_rows=len(table.rows))
    validator = _Validator(actor=actor, target=target, table=table, job_id=job_id)
    groups = validator.run()
    result.errors = validator.errors
    if result.errors:
        result.errors.sort(key=lambda e: (e.row, e.column))
        audit.record(
            actor,
            "residents.import",
            job or ("residents.importjob", ""),
            area_code=area_code,
            result="rejected",
            file_name=job.file_name if job else "",
            sha256=job.file_sha256 if job else "",
            rows=result.total_rows,
            errors=len(result.errors),
        )
        return result
    with transaction.atomic():
        _write(groups, validator, result, job_id)
        audit.record(
            actor,
            "residents.import",
            job or ("residents.importjob", ""),
            area_code=area_code,
            file_name=job.file_name if job else "",
            sha256=job.file_sha256 if job else "",
            rows=result.total_rows,
            households_created=result.households_created,
            residents_created=result.residents_created,
            households_updated=result.households_updated,
            residents_updated=result.residents_updated,
        )
    if job_id:
        set_progress(job_id, "完成", result.total_rows, result.total_rows)
    return result


class _Validator:
    def __init__(self, *, actor, target: Region, table: Table, job_id):
        self.actor = actor
        self.target = target
        self.village_code = target.code[:12]
        self.table = table
        self.headers = table.headers
        self.job_id = job_id
        self.errors: list[RowError] = []
        grids = list(Region.objects.filter(parent_id=self.village_code, level="grid").values_list("code", "name"))
        self.grid_codes = {code for code, _ in grids}
        self.grid_by_name = {name: code for code, name in grids}
        self.grid_names = [name for _, name in grids]

    def col(self, key: str) -> str:
        if key in self.headers:
            return self.headers[key]
        return next((c.header for c in ROSTER.columns if c.key == key), key)

    def error(self, row: int, key: str, message: str) -> None:
        self.errors.append(RowError(row, self.col(key), message))

    def resolve_grid(self, raw: str, row: int) -> str:
        text = (raw or "").strip()
        if not text:
            return ""
        if text in self.grid_codes:
            code = text
        elif text in self.grid_by_name:
            code = self.grid_by_name[text]
        elif f"{text}网格" in self.grid_by_name:
            code = self.grid_by_name[f"{text}网格"]
        elif text.isdigit() and len(text) <= 3 and f"{self.village_code}{int(text):03d}" in self.grid_codes:
            code = f"{self.village_code}{int(text):03d}"
        else:
            known = "、".join(self.grid_names) or "本村尚未设置网格"
            self.error(row, "grid", f"本村没有网格“{text[:20]}”（现有：{known}）")
            return ""
        if not code.startswith(self.target.code):
            self.error(row, "grid", f"网格“{text[:20]}”不在本次选择的导入范围（{self.target.name}）内")
            return ""
        return code

    # -- pass 1: every row on its own, grouping --------------------------------------------
    def run(self) -> list[Group]:
        groups: dict[str, Group] = {}
        seen: dict[str, int] = {}
        current: Group | None = None
        has_tags = "tags" in self.headers
        has_htags = "household_tags" in self.headers
        total = len(self.table.rows)
        for i, row in enumerate(self.table.rows, start=1):
            values, cell_errors = ROSTER.parse_row(row, self.headers)
            for column, message in cell_errors:
                self.errors.append(RowError(row.number, column, message))
            bad = {c for c, _ in cell_errors}
            person = Person(row=row.number, valid=not cell_errors)
            person.name = values.get("name", "")
            person.relation = values.get("relation", "")
            person.id_number = values.get("id_number", "") or ""
            person.phone = values.get("phone")
            if person.id_number:
                person.id_hash = crypto.blind_index(person.id_number, "id_number")
                if person.id_hash in seen:
                    self.error(row.number, "id_number", f"与第 {seen[person.id_hash]} 行的身份证号重复")
                    person.valid = False
                else:
                    seen[person.id_hash] = row.number
                born = values.get("birth_date")
                if born and self.col("birth_date") not in bad and born != idcard.birth_date(person.id_number):
                    self.error(row.number, "birth_date", "出生日期与身份证号中的出生日期不一致")
                sex = values.get("sex")
                if sex and self.col("sex") not in bad and sex != idcard.sex(person.id_number):
                    self.error(row.number, "sex", "性别与身份证号不一致")
            # tags: resident tags to the person, household tags to the household
            r_tags, h_tags = set(), set()
            for code in values.get("tags") or []:
                (h_tags if code in HOUSEHOLD_TAGS else r_tags).add(code)
            h_tags.update(values.get("household_tags") or [])
            for token in split_tags(values.get("note", "")):
                code = TAG_BY_LABEL.get(token)
                if code in RESIDENT_TAGS:
                    r_tags.add(code)
                elif code in HOUSEHOLD_TAGS:
                    h_tags.add(code)
            person.tags = r_tags
            person.replace_tags = has_tags
            # grouping: by 户号, or (no 户号) a head row starts a new household
            number = values.get("number", "")
            if number:
                key = f"n:{number}"
            elif person.relation == Relation.HEAD or current is None or current.number:
                key = f"r:{row.number}"
            else:
                key = current.key
            group = groups.get(key)
            if group is None:
                group = groups[key] = Group(key=key, number=number, first_row=row.number)
            current = group
            group.people.append(person)
            group.tags |= h_tags
            group.replace_tags = group.replace_tags or has_tags or has_htags
            if values.get("head_name"):
                group.head_claims.append((row.number, values["head_name"]))
            grid = self.resolve_grid(values.get("grid", ""), row.number)
            if grid:
                if group.area_code and grid != group.area_code:
                    self.error(row.number, "grid", "同一户的成员填写了不同的网格")
                elif not group.area_code:
                    group.area_code, group.area_row = grid, row.number
            address = values.get("address", "")
            is_head = person.relation == Relation.HEAD
            if address and (not group.address or (is_head and not group.address_from_head)):
                group.address, group.address_from_head = address, is_head
            if self.job_id and i % 500 == 0:
                set_progress(self.job_id, "校验", i, total)
        result = list(groups.values())
        for group in result:
            self.check_group(group)
        self.check_existing(result)
        return result

    def check_group(self, group: Group) -> None:
        label = f"户号 {group.number}" if group.number else f"第 {group.first_row} 行开始的这一户"
        heads = [p for p in group.people if p.relation == Relation.HEAD]
        if not heads:
            self.error(group.first_row, "relation", f"{label}没有户主（每户须有且只有一名户主）")
        elif len(heads) > 1:
            rows = "、".join(str(p.row) for p in heads)
            self.error(heads[1].row, "relation", f"{label}有多名户主（第 {rows} 行），每户只能有一名户主")
        elif heads[0].name:
            for row, name in group.head_claims:
                if name != heads[0].name:
                    self.error(row, "head_name", f"户主姓名“{name[:20]}”与本户户主行的姓名“{heads[0].name}”不一致")
        if not group.area_code:
            group.area_code = self.target.code

    # -- pass 2: against the registry (bulk lookups, no per-row queries) ---------------------
    def check_existing(self, groups: list[Group]) -> None:
        hashes = [p.id_hash for g in groups for p in g.people if p.id_hash]
        existing: dict[str, dict] = {}
        fields = ("pk", "id_number_hash", "household_id", "name", "relation", "phone_hash", "tags", "status",
                  "area_code", "household__village_code", "household__number")  # fmt: skip
        for start in range(0, len(hashes), LOOKUP_CHUNK):
            chunk = hashes[start : start + LOOKUP_CHUNK]
            for r in Resident.objects.filter(id_number_hash__in=chunk).values(*fields):
                existing[r["id_number_hash"]] = r
        self.existing = existing
        numbers = [g.number for g in groups if g.number]
        hh_fields = ("pk", "number", "area_code", "address", "tags", "village_code")
        by_number: dict[str, dict] = {}
        for start in range(0, len(numbers), LOOKUP_CHUNK):
            chunk = numbers[start : start + LOOKUP_CHUNK]
            for h in Household.objects.filter(village_code=self.village_code, number__in=chunk).values(*hh_fields):
                by_number[h["number"]] = h
        member_hh_ids = {
            r["household_id"] for r in existing.values() if r["household__village_code"] == self.village_code
        }
        missing = member_hh_ids - {h["pk"] for h in by_number.values()}
        households = {h["pk"]: h for h in by_number.values()}
        if missing:
            for h in Household.objects.filter(pk__in=missing).values(*hh_fields):
                households[h["pk"]] = h
        self.households = households

        for g in groups:
            hits = [(p, existing[p.id_hash]) for p in g.people if p.id_hash in existing]
            for p, r in hits:
                if r["household__village_code"] != self.village_code:
                    self.error(p.row, "id_number", "该身份证号已在其他村（社区）登记，请先在原村办理迁出")
            local = [(p, r) for p, r in hits if r["household__village_code"] == self.village_code]
            match = by_number.get(g.number) if g.number else None
            if match is None and local:
                ids = {r["household_id"] for _, r in local}
                if len(ids) == 1:
                    candidate = households[ids.pop()]
                    if not candidate["number"] or not g.number:
                        match = candidate
            if match is not None:
                for p, r in local:
                    if r["household_id"] != match["pk"]:
                        other = households.get(r["household_id"], {}).get("number") or "未编号"
                        self.error(p.row, "id_number", f"该身份证号已登记在本村另一户（户号 {other}）中")
                if not can_in_area(self.actor, PERM, match["area_code"]):
                    self.error(g.first_row, "number", "本村已有该户号的户，但不在您的管辖范围内")
            else:
                for p, r in local:
                    other = households.get(r["household_id"], {}).get("number") or "未编号"
                    self.error(p.row, "id_number", f"该身份证号已登记在本村另一户（户号 {other}）中")
            g.household = match
        # two groups of the file must not land in the same existing household
        matched: dict[int, Group] = {}
        for g in groups:
            if g.household is None:
                continue
            other = matched.get(g.household["pk"])
            if other is not None:
                self.error(g.first_row, "number", f"与第 {other.first_row} 行开始的户对应系统中的同一户，请合并为一户")
                g.household = None
            else:
                matched[g.household["pk"]] = g
        # an existing household's current head must be in the file if the file names another head
        if matched:
            heads = Resident.objects.filter(
                household_id__in=list(matched), relation=Relation.HEAD, status=ResidentStatus.ACTIVE
            ).values_list("household_id", "id_number_hash")
            for hh_id, id_hash in heads:
                g = matched[hh_id]
                file_hashes = {p.id_hash for p in g.people}
                file_head = next((p for p in g.people if p.relation == Relation.HEAD), None)
                if file_head and id_hash != file_head.id_hash and id_hash not in file_hashes:
                    self.error(
                        file_head.row,
                        "relation",
                        "该户在系统中已登记了另一名户主；如需更换户主，请把原户主也列入本户并改填与户主关系",
                    )


# --- the write ---------------------------------------------------------------------------------
def _write(groups: list[Group], v: _Validator, result: ImportResult, job_id) -> None:
    total = result.total_rows
    done = 0

    def progress(n):
        if job_id:
            set_progress(job_id, "写入", min(n, total), total)

    new_groups = [g for g in groups if g.household is None]
    old_groups = [g for g in groups if g.household is not None]
    rows = [
        HouseholdRow(
            area_code=g.area_code,
            number=g.number,
            address=g.address,
            tags=tags_to_db(g.tags),
            members=[
                PersonRow(
                    name=p.name, id_number=p.id_number, phone=p.phone, relation=p.relation, tags=tags_to_db(p.tags)
                )
                for p in g.people
            ],
        )
        for g in new_groups
    ]
    new_people = sum(len(g.people) for g in new_groups)
    if rows:

        def batch_progress(d, t):
            progress(int(new_people * d / t) if t else 0)

        result.households_created, result.residents_created = create_households(rows, progress=batch_progress)
    done = new_people
    progress(done)

    # existing households: update only what changed
    hh_changes: dict[int, dict] = {}
    moved: dict[int, str] = {}
    touched: set[int] = set()
    for g in old_groups:
        h = g.household
        changes = {}
        area = g.area_code if (g.area_row or v.target.level == "grid") else h["area_code"]
        if area != h["area_code"]:
            changes["area_code"] = area
            changes["village_code"] = area[:12]
            moved[h["pk"]] = area
        if g.number and not h["number"]:
            changes["number"] = g.number
        if g.address and g.address != h["address"]:
            changes["address"] = g.address
        tags = tags_to_db(g.tags if g.replace_tags else set(tags_from_db(h["tags"])) | g.tags)
        if tags != h["tags"]:
            changes["tags"] = tags
        if changes:
            hh_changes[h["pk"]] = changes
    if hh_changes:
        objs = Household.objects.in_bulk(list(hh_changes))
        fields = {"updated_at"}
        now = timezone.now()
        for pk, changes in hh_changes.items():
            for name, value in changes.items():
                setattr(objs[pk], name, value)
            objs[pk].updated_at = now
            fields.update(changes)
        Household.objects.bulk_update(list(objs.values()), sorted(fields), batch_size=1000)
    result.households_updated = len(hh_changes)
    for hh_id, area in moved.items():
        Resident.objects.filter(household_id=hh_id).update(area_code=area)
        SearchKey.objects.filter(household_id=hh_id).update(area_code=area)
        touched.add(hh_id)

    # people of existing households: create the new ones, update the changed ones
    creates: list[Resident] = []
    updates: dict[int, dict] = {}
    for g in old_groups:
        hh_id = g.household["pk"]
        area = moved.get(hh_id, g.household["area_code"])
        for p in g.people:
            r = v.existing.get(p.id_hash)
            if r is None:
                creates.append(
                    Resident(
                        household_id=hh_id,
                        area_code=area,
                        relation=p.relation,
                        tags=tags_to_db(p.tags),
                        status=ResidentStatus.ACTIVE,
                        **personal_fields(name=p.name, id_number=p.id_number, phone=p.phone),
                    )
                )
                touched.add(hh_id)
                continue
            change = {}
            if p.name != r["name"]:
                change["name"] = p.name
            if p.phone and crypto.blind_index(p.phone, "phone") != r["phone_hash"]:
                change["phone"] = p.phone
            if p.relation != r["relation"]:
                change["relation"] = p.relation
                touched.add(hh_id)
            tags = tags_to_db(p.tags if p.replace_tags else set(tags_from_db(r["tags"])) | p.tags)
            if tags != r["tags"]:
                change["tags"] = tags
            if change:
                updates[r["pk"]] = change
        done += len(g.people)
        progress(done)
    if creates:
        Resident.objects.bulk_create(creates, batch_size=2000)
        SearchKey.objects.bulk_create([k for res in creates for k in search_key_rows(res)], batch_size=5000)
        result.residents_created += len(creates)
    if updates:
        _apply_updates(updates)
        result.residents_updated = len(updates)
        touched.update(
            Resident.objects.filter(pk__in=[pk for pk, c in updates.items() if "name" in c]).values_list(
                "household_id", flat=True
            )
        )
    if touched:
        _refresh_households(touched)
    progress(total)


def _apply_updates(updates: dict[int, dict]) -> None:
    objs = Resident.objects.in_bulk(list(updates))
    changed_fields: set[str] = set()
    renamed: list[Resident] = []
    for pk, change in updates.items():
        r = objs[pk]
        if "name" in change:
            f = personal_fields(name=change["name"], id_number=None, phone=None)
            r.name, r.name_pinyin, r.name_initials = f["name"], f["name_pinyin"], f["name_initials"]
            changed_fields.update({"name", "name_pinyin", "name_initials"})
            renamed.append(r)
        if "phone" in change:
            f = personal_fields(name=r.name, id_number=None, phone=change["phone"])
            r.phone_enc, r.phone_hash = f["phone_enc"], f["phone_hash"]
            changed_fields.update({"phone_enc", "phone_hash"})
        if "relation" in change:
            r.relation = change["relation"]
            changed_fields.add("relation")
        if "tags" in change:
            r.tags = change["tags"]
            changed_fields.add("tags")
        r.updated_at = timezone.now()
    changed_fields.add("updated_at")
    Resident.objects.bulk_update(list(objs.values()), sorted(changed_fields), batch_size=1000)
    if renamed:
        SearchKey.objects.filter(resident_id__in=[r.pk for r in renamed]).delete()
        SearchKey.objects.bulk_create([k for r in renamed for k in search_key_rows(r)], batch_size=5000)


def _refresh_households(household_ids) -> None:
    """Head, head name and member count of the given households (three queries)."""
    ids = list(household_ids)
    from django.db.models import Count

    counts = dict(
        Resident.objects.filter(household_id__in=ids, status=ResidentStatus.ACTIVE)
        .values("household_id")
        .annotate(n=Count("id"))
        .values_list("household_id", "n")
    )
    heads: dict[int, tuple[int, str]] = {}
    for hh_id, pk, name in (
        Resident.objects.filter(household_id__in=ids, status=ResidentStatus.ACTIVE, relation=Relation.HEAD)
        .order_by("household_id", "id")
        .values_list("household_id", "pk", "name")
    ):
        heads.setdefault(hh_id, (pk, name))
    objs = []
    for hh_id in ids:
        head = heads.get(hh_id)
        objs.append(
            Household(
                pk=hh_id,
                head_id=head[0] if head else None,
                head_name=head[1] if head else "",
                member_count=counts.get(hh_id, 0),
                updated_at=timezone.now(),
            )
        )
    Household.objects.bulk_update(objs, ["head", "head_name", "member_count", "updated_at"], batch_size=1000)


# --- error report --------------------------------------------------------------------------
def error_rows(job: ImportJob) -> list[dict]:
    return list(job.errors or [])
