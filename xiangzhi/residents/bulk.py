"""Bulk writes of households and residents in one go: the roster import, the demo data and
the scale generator all go through here, so that every row gets the same derived fields
(encryption, blind indexes, pinyin search keys, head and member count)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

from .choices import Relation, ResidentStatus
from .models import Household, Resident, SearchKey
from .services import personal_fields, search_keys

BATCH = 2000
BULK_CACHE_KB = 128_000  # SQLite page cache while a bulk write runs (the default is 16 MB)


@dataclass
class PersonRow:
    name: str
    id_number: str | None = None
    phone: str | None = None
    relation: str = Relation.OTHER
    tags: str = ""  # db form ",a,b,"


@dataclass
class HouseholdRow:
    area_code: str
    number: str = ""
    address: str = ""
    tags: str = ""
    members: list[PersonRow] = field(default_factory=list)


def _head(members):
    return next((m for m in members if m.relation == Relation.HEAD), None)


@contextmanager
def bulk_cache():
    """A bigger SQLite page cache for the duration of a bulk write: tens of thousands of
    search keys land at random places of large indexes, and with the everyday 16 MB cache
    most of those page visits go to disk. Restored afterwards (memory stays bounded)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        old = int(cur.fetchone()[0])
        cur.execute(f"PRAGMA cache_size=-{BULK_CACHE_KB}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA cache_size={old}")


@transaction.atomic
def create_households(rows: list[HouseholdRow], *, progress=None) -> tuple[int, int]:
    """Create new households with their members (validated input only). Returns
    (households, residents). ``progress(done, total)`` is called per batch."""
    with bulk_cache():
        return _create_households(rows, progress)


def _create_households(rows: list[HouseholdRow], progress) -> tuple[int, int]:
    total = len(rows)
    n_h = n_r = 0
    for start in range(0, total, BATCH):
        chunk = rows[start : start + BATCH]
        households = [
            Household(
                area_code=r.area_code,
                village_code=r.area_code[:12],
                number=r.number,
                address=r.address,
                tags=r.tags,
                head_name=(_head(r.members).name if _head(r.members) else ""),
                member_count=len(r.members),
            )
            for r in chunk
        ]
        Household.objects.bulk_create(households, batch_size=BATCH)
        if households and households[0].pk is None:  # backends without RETURNING
            _fill_pks(households)
        residents = []
        for h, r in zip(households, chunk, strict=True):
            for m in r.members:
                residents.append(
                    Resident(
                        household_id=h.pk,
                        area_code=h.area_code,
                        relation=m.relation,
                        tags=m.tags,
                        status=ResidentStatus.ACTIVE,
                        **personal_fields(name=m.name, id_number=m.id_number, phone=m.phone, validated=True),
                    )
                )
        Resident.objects.bulk_create(residents, batch_size=BATCH)
        _insert_search_keys(residents)
        _set_heads(households, residents)
        n_h += len(households)
        n_r += len(residents)
        if progress:
            progress(min(start + BATCH, total), total)
    return n_h, n_r


def _set_heads(households, residents) -> None:
    """Point each new household at its head: plain executemany of one-row UPDATEs (the
    ORM's bulk_update writes one CASE over the whole batch, a fifth of an import's time)."""
    heads = {res.household_id: res.pk for res in residents if res.relation == Relation.HEAD}
    pairs = []
    for h in households:
        if h.pk in heads:
            h.head_id = heads[h.pk]
            pairs.append((h.head_id, h.pk))
    if not pairs:
        return
    q = connection.ops.quote_name
    sql = f"UPDATE {q(Household._meta.db_table)} SET {q('head_id')} = %s WHERE {q('id')} = %s"  # noqa: S608
    with connection.cursor() as cur:
        cur.executemany(sql, pairs)


def _insert_search_keys(residents) -> None:
    """Plain executemany: the search-key rows are many and tiny, and the ORM's per-object
    overhead would dominate the import."""
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ("resident_id", "household_id", "area_code", "township", "key"))
    sql = f"INSERT INTO {q(SearchKey._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s, %s)"  # noqa: S608
    rows = [
        (res.pk, res.household_id, res.area_code, res.area_code[:9], key)
        for res in residents
        for key in sorted(search_keys(res.name))
    ]
    with connection.cursor() as cur:
        for start in range(0, len(rows), 5000):
            cur.executemany(sql, rows[start : start + 5000])


def _fill_pks(households):  # pragma: no cover - SQLite ≥ 3.35 and PostgreSQL return ids
    raise RuntimeError("database does not return ids from bulk insert")
