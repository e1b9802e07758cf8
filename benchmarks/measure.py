"""One measurement against one data directory; prints a JSON object on the last line.

Run by ``benchmarks/run.py`` in a subprocess with ``XIANGZHI_DATA_DIR`` set (each data
directory is its own SQLite database). Not a test.

    measure.py pages  --reps 30           list page / pinyin search vs a bare view of the same query
    measure.py import --reps 3            Excel import of a 10k-resident file vs raw bulk_create
    measure.py export --rows 100000       peak RSS of the streamed roster export (fresh process)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangzhi.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

BENCH_PASSWORD = "Bench@2026xz"
TOWNSHIP = "341524111"  # 白塔畈镇
COUNTY = "341524"


def bench_user(username: str, role: str, area_codes):
    """A benchmark account (created once per data directory)."""
    from xiangzhi.accounts.models import User
    from xiangzhi.accounts.services import assignment_add, user_create

    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            actor=None, username=username, password=BENCH_PASSWORD, full_name="基准测试", area_code=area_codes[0]
        )
    for code in area_codes:
        assignment_add(actor=None, user=user, area_code=code, role=role)
    return user


def logged_in_client(user):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    session = client.session
    session["login_at"] = session["seen_at"] = time.time()
    session["staff"] = True
    session.save()
    return client


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def interleaved(fns: dict, reps: int, warmup: int = 3) -> dict[str, float]:
    """Median seconds of each callable, measured alternately so that background load hits
    all of them alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    samples = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            samples[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in samples.items()}


# --- pages -------------------------------------------------------------------------------
def use_database(path: str) -> None:
    """Point the default connection at another SQLite file. With CONN_MAX_AGE 0 the
    connection closes after every request, so the next request opens this file."""
    from django.db import connections

    conn = connections["default"]
    conn.close()
    conn.settings_dict["NAME"] = path


def _prepare_pages(args, label: str) -> tuple[dict, dict]:
    """Login, sanity checks and the four timed requests against the current database."""
    from benchmarks.bare import bare_queryset
    from xiangzhi.residents.models import Household, Resident
    from xiangzhi.residents.selectors import household_list

    user = bench_user("bench_township", "township_admin", [args.area])
    client = logged_in_client(user)

    def get(url, params):
        response = client.get(url, params)
        if response.status_code != 200:
            raise SystemExit(f"{label}: {url} {params} → HTTP {response.status_code}")
        return response

    page = get("/residents/", {})
    hits_page = get("/residents/", {"q": args.q})
    hits_bare = get("/bench/bare/", {"area": args.area, "q": args.q})
    info = {
        "households": Household.objects.count(),
        "residents": Resident.objects.count(),
        "in_scope": Household.objects.filter(area_code__startswith=args.area).count(),
        "area": args.area,
        "q": args.q,
        # the bare view runs the same query as the page's first page
        "same_rows_list": list(household_list(user=user).values_list("pk", flat=True)[:20])
        == list(bare_queryset(args.area).values_list("pk", flat=True)[:20]),
        "same_rows_search": list(household_list(user=user, q=args.q).values_list("pk", flat=True)[:20])
        == list(bare_queryset(args.area, args.q).values_list("pk", flat=True)[:20]),
        "search_rows": hits_bare.content.count(b"<tr>"),
        "page_bytes": len(page.content),
        "search_page_bytes": len(hits_page.content),
    }
    calls = {
        "list_page": lambda: get("/residents/", {}),
        "list_bare": lambda: get("/bench/bare/", {"area": args.area}),
        "search_page": lambda: get("/residents/", {"q": args.q}),
        "search_bare": lambda: get("/bench/bare/", {"area": args.area, "q": args.q}),
    }
    return info, calls


def cmd_pages(args) -> dict:
    """Pages of this data directory and, with --other, of a second one, all interleaved in
    one process: load changes during the run hit every figure alike."""
    from django.conf import settings
    from django.test.utils import override_settings

    databases = {"main": settings.DATABASES["default"]["NAME"]}
    if args.other:
        databases["other"] = str(Path(args.other) / "xiangzhi.sqlite3")
    calls, infos = {}, {}
    with override_settings(ROOT_URLCONF="benchmarks.bare"):
        for label, path in databases.items():
            use_database(path)
            infos[label], db_calls = _prepare_pages(args, label)
            for key, fn in db_calls.items():
                calls[f"{label}:{key}"] = lambda fn=fn, path=path: (use_database(path), fn())
        results = interleaved(calls, args.reps)
    use_database(databases["main"])
    out = {}
    for label in databases:
        out[label] = {**infos[label], **{k.split(":", 1)[1]: v for k, v in results.items() if k.startswith(label)}}
    return out


# --- import ------------------------------------------------------------------------------
def _roster_rows(n_residents: int, village_name: str, seed: int = 99):
    """Fictional people for the import file; ID numbers use another county's prefix so they
    never collide with the synthetic registry (341524)."""
    import random

    from xiangzhi.residents.synth import Generator, IdAllocator

    gen = Generator(rng=random.Random(seed), ids=IdAllocator(region6="341522"))
    rows, total, i = [], 0, 0
    while total < n_residents:
        i += 1
        row = gen.household(area_code="", number=f"9{i:05d}", address=f"{village_name}{1 + i % 9}组{i}号")
        row.grid_name = "第一网格" if i % 2 else "第二网格"
        rows.append(row)
        total += len(row.members)
    return rows


def _write_xlsx(rows, path):
    from openpyxl import Workbook

    from xiangzhi.residents.choices import ALL_TAGS, Relation, tags_from_db

    labels = dict(Relation.choices)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append(["网格", "户号", "户主姓名", "姓名", "与户主关系", "身份证号", "联系电话", "住址", "人员标签", "户标签"])
    for h in rows:
        head = h.members[0].name
        for m in h.members:
            ws.append([
                h.grid_name, h.number, head, m.name, labels[m.relation], m.id_number, m.phone or "", h.address,
                "、".join(ALL_TAGS[c] for c in tags_from_db(m.tags)), "、".join(ALL_TAGS[c] for c in tags_from_db(h.tags)),
            ])  # fmt: skip
    wb.save(path)


def _raw_bulk_create(rows, village_code: str, grids: dict[str, str]):
    """The floor: the same households and people as plain model rows, no parsing, no
    validation, no encryption, no search keys."""
    from xiangzhi.core import idcard
    from xiangzhi.residents.models import Household, Resident

    households = [
        Household(
            area_code=grids[h.grid_name],
            village_code=village_code,
            number=h.number,
            address=h.address,
            tags=h.tags,
            head_name=h.members[0].name,
            member_count=len(h.members),
        )
        for h in rows
    ]
    Household.objects.bulk_create(households, batch_size=2000)
    residents = [
        Resident(
            household_id=hh.pk,
            area_code=hh.area_code,
            name=m.name,
            relation=m.relation,
            tags=m.tags,
            sex=idcard.sex(m.id_number),
            birth_year=int(m.id_number[6:10]),
        )
        for hh, h in zip(households, rows, strict=True)
        for m in h.members
    ]
    Resident.objects.bulk_create(residents, batch_size=2000)
    return len(residents)


def _rolled_back(fn):
    """Run ``fn`` inside a transaction that is rolled back; return (seconds, result)."""
    with transaction.atomic():
        t = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t
        transaction.set_rollback(True)
    return elapsed, result


def cmd_import(args) -> dict:
    from xiangzhi.core.registers import read_table
    from xiangzhi.org.models import Region
    from xiangzhi.residents.bulk import HouseholdRow, create_households
    from xiangzhi.residents.importer import import_table
    from xiangzhi.residents.registers import ROSTER

    village = Region.objects.filter(code__startswith=TOWNSHIP, level="village").order_by("code").first()
    grids = dict(Region.objects.filter(parent=village, level="grid").values_list("name", "code"))
    user = bench_user("bench_importer", "township_admin", [TOWNSHIP])
    rows = _roster_rows(args.residents, village.name)
    n_people = sum(len(h.members) for h in rows)
    path = Path(tempfile.mkdtemp(prefix="xz-bench-")) / "roster.xlsx"
    _write_xlsx(rows, path)

    def importer():
        table = read_table(ROSTER, path, path.name)
        result = import_table(actor=user, area_code=village.code, table=table)
        if result.errors:
            raise SystemExit(f"import rejected: {[e.as_dict() for e in result.errors[:5]]}")
        return result.residents_created

    def bulk_path():  # what the importer writes through, without the file and validation
        copies = [
            HouseholdRow(
                area_code=grids[h.grid_name], number=h.number, address=h.address, tags=h.tags, members=h.members
            )
            for h in rows
        ]
        return create_households(copies)[1]

    samples = {"import": [], "raw": [], "bulk": []}
    for _ in range(args.reps):
        for key, fn in (
            ("import", importer),
            ("raw", lambda: _raw_bulk_create(rows, village.code, grids)),
            ("bulk", bulk_path),
        ):
            elapsed, created = _rolled_back(fn)
            if created != n_people:
                raise SystemExit(f"{key}: created {created} of {n_people}")
            samples[key].append(elapsed)
    med = {k: statistics.median(v) for k, v in samples.items()}
    return {
        "residents": n_people,
        "households": len(rows),
        "file_bytes": path.stat().st_size,
        "import_s": med["import"],
        "raw_s": med["raw"],
        "bulk_s": med["bulk"],
        "import_rate": n_people / med["import"],
        "raw_rate": n_people / med["raw"],
        "bulk_rate": n_people / med["bulk"],
    }


# --- export ------------------------------------------------------------------------------
def _vm(field: str) -> int:
    """kB value of a /proc/self/status field (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux ≥ 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


def export_user(rows: int):
    """A village secretary of as many whole villages (in code order) as it takes to hold at
    least ``rows`` residents: the export has no row limit, so the scope sets its size."""
    from django.db.models import Count

    from xiangzhi.accounts.models import User
    from xiangzhi.accounts.services import assignment_add, user_create
    from xiangzhi.residents.models import Resident

    villages: dict[str, int] = {}
    for code, n in Resident.objects.values("area_code").annotate(n=Count("id")).values_list("area_code", "n"):
        villages[code[:12]] = villages.get(code[:12], 0) + n
    chosen, total = [], 0
    for code, n in sorted(villages.items()):
        if total >= rows:
            break
        chosen.append(code)
        total += n
    username = f"bench_export_{rows}"
    user = User.objects.filter(username=username).first()
    if user is None:
        user = user_create(
            actor=None, username=username, password=BENCH_PASSWORD, full_name="基准测试", area_code=chosen[0]
        )
        for code in chosen:
            assignment_add(actor=None, user=user, area_code=code, role="village_secretary")
    return user, total


def cmd_export(args) -> dict:
    from xiangzhi.accounts.models import User
    from xiangzhi.residents import registers

    user, expected = export_user(args.rows)
    user = User.objects.get(pk=user.pk)  # fresh, no cached scope
    registers.export_context(user, {})  # warm the connection and the code paths
    path = Path(tempfile.mkdtemp(prefix="xz-bench-")) / "export.xlsx"
    if args.trace:  # Python heap only (tracemalloc slows the export; RSS is not measured)
        import tracemalloc

        tracemalloc.start()
        t = time.perf_counter()
        written = registers.export_residents_xlsx(user, {}, path)
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"rows": written, "expected_rows": expected, "seconds": elapsed, "py_peak_mb": peak / 1048576}
    base_rss = _vm("VmRSS")
    _reset_peak()
    t = time.perf_counter()
    written = registers.export_residents_xlsx(user, {}, path)
    elapsed = time.perf_counter() - t
    peak = _vm("VmHWM")
    return {
        "rows": written,
        "expected_rows": expected,
        "seconds": elapsed,
        "base_rss_mb": base_rss / 1024,
        "peak_rss_mb": peak / 1024,
        "delta_mb": (peak - base_rss) / 1024,
        "file_mb": path.stat().st_size / 1024 / 1024,
    }


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pages")
    p.add_argument("--reps", type=int, default=30)
    p.add_argument("--area", default=TOWNSHIP)
    p.add_argument("--q", default="lcx")
    p.add_argument("--other", default="", help="a second data directory, measured interleaved")
    p = sub.add_parser("import")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--residents", type=int, default=10_000)
    p = sub.add_parser("export")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--trace", action="store_true", help="Python heap peak (tracemalloc) instead of RSS")
    args = parser.parse_args()
    result = {"pages": cmd_pages, "import": cmd_import, "export": cmd_export}[args.cmd](args)
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
