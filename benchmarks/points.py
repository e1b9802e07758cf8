#!/usr/bin/env python
"""Points benchmarks (not tests): ``.venv/bin/python benchmarks/points.py``.

Prints one table measured in this run:

(a) PostgreSQL — redemption throughput at the counter: ``shop.redemption_create`` (the
    redemption, the account debited and the product rows taken by conditional updates in a
    fixed order, items, ledger entry, stock move, audit — one transaction) from N worker
    processes (as gunicorn runs the site; and, for reference, N threads of one process),
    each with its own connection, against one product, vs a bare ``UPDATE points_product
    SET stock = stock - 1 WHERE id = %s AND stock >= 1`` loop from as many processes
    (threads) on the same machine                                           goal ≥ 0.5×
    — and an oversell run: more attempts than stock, exactly the stock sold, 0 oversell,
    balances = Σ entries.
(b) SQLite with 5M ledger entries — a household's ledger page (the staff page
    ``points:account_detail`` and the API ``/api/v1/points/accounts/{id}/ledger``, first
    page and a deep keyset page) vs a bare view running the same keyset query   ≤ 1.5×
(c) SQLite — a village's monthly 红黑榜 draft (``services.list_generate``)  well under 1 s

    .venv/bin/python benchmarks/points.py                 # both parts
    .venv/bin/python benchmarks/points.py --skip pg       # SQLite only
    BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/xiangzhi_bench_points  (default)

The SQLite data (≈ 50k households, 5M entries, their awards and redemptions, written with
``executemany``) is built once under ``benchmarks/data/points/`` and reused; delete the
directory to rebuild it. The PostgreSQL database is a scratch database: it is created when
missing, migrated, and its points and audit tables are emptied (TRUNCATE) before each run.
Sub-commands (run in subprocesses): ``generate``, ``measure-sqlite``, ``measure-pg``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
DIR = DATA / "points"
PY = sys.executable
SEED = 1
COUNTY = "341524"
LIUCHONG = "341524111206"
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/xiangzhi_bench_points")
HOUSEHOLDS_PER_VILLAGE = 215  # × 232 villages ≈ 50k households
TARGET_ENTRIES = 5_000_000
HEAVY_EXTRA = 40_000  # entries of the heaviest account (the first household of 刘冲村)
FIRST_MONTH = (2023, 1)
MONTHS = 36
BENCH_PASSWORD = "Bench@2026xz"


def _env(directory: Path | None = None, database_url: str | None = None) -> dict:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "xiangzhi.settings"
    env.pop("XIANGZHI_FIELD_KEY", None)
    env.pop("DATABASE_URL", None)
    if directory is not None:
        env["XIANGZHI_DATA_DIR"] = str(directory)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def _run(args, **env) -> str:
    proc = subprocess.run(args, cwd=ROOT, env=_env(**env), text=True, capture_output=True, check=False)
    if proc.returncode:
        sys.stderr.write((proc.stdout or "") + (proc.stderr or ""))
        raise SystemExit(f"failed: {' '.join(map(str, args))}")
    return proc.stdout or ""


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangzhi.settings")
    import django

    django.setup()


def _median_ms(samples) -> float:
    return round(statistics.median(samples) * 1000, 2)


# =========================================================================================
# (a) PostgreSQL: redemption throughput
# =========================================================================================
def _ensure_pg_database() -> None:
    import psycopg

    base, _, name = PG_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def _pg_world(stock: int, accounts: int, balance: int):
    """A fresh shop with one product of ``stock`` and ``accounts`` funded accounts."""
    from django.db import connection

    from xiangzhi.accounts.models import User
    from xiangzhi.points.models import Account, LedgerEntry, Product, Shop
    from xiangzhi.points.shop import shop_create

    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE points_redemptionitem, points_redemption, points_stockmove, points_ledgerentry, points_product,"
            " points_shop, points_objection, points_award, points_activity, points_listentry, points_appeal,"
            " points_redblacklist, points_account, audit_auditevent CASCADE"
        )
    keeper = User.objects.filter(username="bench_keeper").first() or User.objects.create_user(
        username="bench_keeper", password=BENCH_PASSWORD
    )
    the_shop = shop_create(actor=None, area_code=LIUCHONG, name="基准测试超市", keeper=keeper)
    product = Product.objects.create(shop=the_shop, name="洗衣粉", price=1, stock=stock)
    bare = Product.objects.create(shop=the_shop, name="裸更新对照", price=1, stock=stock)
    now = datetime.now().astimezone()
    accs = Account.objects.bulk_create(
        [Account(subject_kind="household", name=f"基准户{i}", area_code=LIUCHONG + "001", balance=balance,
                 earned_total=balance) for i in range(accounts)]
    )  # fmt: skip
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(account=a, area_code=a.area_code, kind="award", amount=balance, balance_after=balance,
                     source="bench", idempotency_key=f"bench-seed:{a.pk}", created_at=now) for a in accs]
    )  # fmt: skip
    return keeper, Shop.objects.get(pk=the_shop.pk), product, bare, accs


def _parallel(n: int, work, mode: str) -> tuple[float, list]:
    """Run ``work(i)`` in n workers — threads of this process, or forked processes (as
    gunicorn runs the site) — each with its own database connection, opened before the
    clock starts; all start together. Returns (wall seconds, the workers' results)."""
    from django.db import connection, connections

    connections.close_all()  # a forked child must not share the parent's connection
    if mode == "threads":
        barrier = threading.Barrier(n + 1)
        results, errors = [None] * n, []

        def body(i):
            try:
                connection.ensure_connection()
                barrier.wait()
                results[i] = work(i)
            except Exception as exc:  # noqa: BLE001 - reported, not swallowed
                errors.append(repr(exc))
            finally:
                connection.close()

        workers = [threading.Thread(target=body, args=(i,)) for i in range(n)]
        for w in workers:
            w.start()
        barrier.wait()
        t0 = time.perf_counter()
        for w in workers:
            w.join()
        seconds = time.perf_counter() - t0
    else:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        barrier, queue = ctx.Barrier(n + 1), ctx.Queue()
        results, errors = [None] * n, []

        def child(i):
            try:
                connection.ensure_connection()
                barrier.wait()
                queue.put((i, work(i), None))
            except Exception as exc:  # noqa: BLE001 - reported, not swallowed
                queue.put((i, None, repr(exc)))
            finally:
                connection.close()

        workers = [ctx.Process(target=child, args=(i,)) for i in range(n)]
        for w in workers:
            w.start()
        barrier.wait()
        t0 = time.perf_counter()
        for _ in range(n):
            i, result, error = queue.get()
            results[i] = result
            if error:
                errors.append(error)
        seconds = time.perf_counter() - t0
        for w in workers:
            w.join()
    if errors:
        raise RuntimeError(errors[:3])
    return seconds, results


def _redeem_run(workers: int, attempts: int, stock: int, run: str, mode: str) -> dict:
    from django.core.exceptions import ValidationError

    from xiangzhi.points import ledger
    from xiangzhi.points.models import Product, StockMove
    from xiangzhi.points.shop import redemption_create

    keeper, the_shop, product, _, accs = _pg_world(stock, accounts=400, balance=1_000_000)
    per = attempts // workers

    def work(i):
        rng = random.Random(f"{run}:{i}")
        ok = refused = 0
        other = []
        for k in range(per):
            account = accs[rng.randrange(len(accs))]
            try:
                redemption_create(actor=keeper, shop=the_shop, account=account, items=[(product.pk, 1)],
                                  idempotency_key=f"{run}:{i}:{k}")  # fmt: skip
                ok += 1
            except ValidationError:
                refused += 1
            except Exception as exc:  # noqa: BLE001
                other.append(repr(exc))
        return ok, refused, other

    seconds, results = _parallel(workers, work, mode)
    product.refresh_from_db()
    sold = sum(r[0] for r in results)
    other = [e for r in results for e in r[2]]
    moves = StockMove.objects.filter(product=product, quantity__lt=0).count()
    report = ledger.reconcile()
    return {
        "mode": mode,
        "workers": workers,
        "attempts": per * workers,
        "stock": stock,
        "sold": sold,
        "refused": sum(r[1] for r in results),
        "errors": len(other),
        "error_sample": other[:3],
        "stock_after": product.stock,
        "oversold": max(0, sold - stock) + (1 if Product.objects.filter(stock__lt=0).exists() else 0),
        "moves_match": moves == sold,
        "ledger_ok": not report["mismatches"],
        "seconds": round(seconds, 3),
        "per_second": round(sold / seconds, 1),
    }


def _bare_run(workers: int, attempts: int, stock: int, mode: str) -> dict:
    from django.db import connection

    _, _, _, bare, _ = _pg_world(stock, accounts=1, balance=1)
    per = attempts // workers

    def work(i):
        ok = 0
        with connection.cursor() as cur:
            for _ in range(per):
                cur.execute("UPDATE points_product SET stock = stock - 1 WHERE id = %s AND stock >= 1", [bare.pk])
                ok += cur.rowcount
        return ok

    seconds, results = _parallel(workers, work, mode)
    bare.refresh_from_db()
    return {"mode": mode, "workers": workers, "attempts": per * workers, "stock": stock, "sold": sum(results),
            "stock_after": bare.stock, "seconds": round(seconds, 3),
            "per_second": round(sum(results) / seconds, 1)}  # fmt: skip


def cmd_measure_pg(args) -> dict:
    _django()
    from django.db import connection

    out = {"server": connection.cursor().connection.info.server_version, "workers": args.threads}
    n = args.threads
    for mode in ("processes", "threads"):
        runs = []
        for r in range(args.pg_reps):  # alternate ours and bare, keep the medians
            ours = _redeem_run(n, args.redemptions, args.redemptions, f"{mode[0]}{r}", mode)
            bare = _bare_run(n, args.redemptions, args.redemptions, mode)
            runs.append((ours, bare))
        out[mode] = {
            "ours": [o for o, _ in runs],
            "bare": [b for _, b in runs],
            "ours_per_second": statistics.median(o["per_second"] for o, _ in runs),
            "bare_per_second": statistics.median(b["per_second"] for _, b in runs),
        }
    out["oversell"] = _redeem_run(n, args.oversell_attempts, args.oversell_stock, "os", "processes")
    out["oversell_threads"] = _redeem_run(n, args.oversell_attempts, args.oversell_stock, "ot", "threads")
    # one worker: wall and CPU time of one redemption vs one bare UPDATE (what the ratio is made of)
    out["single"] = _single(300)
    return out


def _single(count: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xiangzhi.points.shop import redemption_create

    keeper, the_shop, product, bare, accs = _pg_world(count + 1, accounts=50, balance=1_000_000)
    wall, cpu = time.perf_counter(), time.process_time()
    for k in range(count):
        redemption_create(actor=keeper, shop=the_shop, account=accs[k % 50], items=[(product.pk, 1)],
                          idempotency_key=f"single:{k}")  # fmt: skip
    ours = ((time.perf_counter() - wall) / count, (time.process_time() - cpu) / count)
    with CaptureQueriesContext(connection) as q:
        redemption_create(actor=keeper, shop=the_shop, account=accs[0], items=[(product.pk, 1)],
                          idempotency_key="single:q")  # fmt: skip
    with connection.cursor() as cur:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            cur.execute("UPDATE points_product SET stock = stock - 1 WHERE id = %s AND stock >= 1", [bare.pk])
        bare_t = ((time.perf_counter() - wall) / count, (time.process_time() - cpu) / count)
    statements = sum(1 for x in q.captured_queries if x["sql"] not in ("BEGIN", "COMMIT"))
    return {"ours_ms": round(ours[0] * 1000, 2), "ours_cpu_ms": round(ours[1] * 1000, 2), "statements": statements,
            "bare_ms": round(bare_t[0] * 1000, 2), "bare_cpu_ms": round(bare_t[1] * 1000, 3)}  # fmt: skip


# =========================================================================================
# (b, c) SQLite: 5M entries
# =========================================================================================
def _insert(cur, table: str, columns: list[str], rows) -> int:
    quoted = ", ".join('"' + c + '"' for c in columns)
    cur.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(columns))})", rows)
    return len(rows)


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S")


HOUSEHOLD_AWARDS = [("HJ01", 0.45), ("HJ03", 0.35), ("ZY01", 0.5), ("HJ02", 0.35), ("LL01", 0.25), ("XL01", 0.12),
                    ("ZF02", 0.1)]  # fmt: skip
DEDUCTIONS = [("HJ09", 0.025), ("HJ08", 0.008)]


def cmd_generate(args) -> dict:
    """Deterministic county: households, accounts, ~5M ledger entries over 36 months (awards
    with their Award rows, deductions, redemptions with their Redemption rows), in time
    order within each month, balances kept exactly."""
    _django()
    from django.db import connection

    from xiangzhi.org.models import Region
    from xiangzhi.org.services import regions_import_shipped
    from xiangzhi.points import services
    from xiangzhi.points.demo import TOWNSHIP_RULES
    from xiangzhi.points.shop import shop_create

    rng = random.Random(f"points-bench:{SEED}")
    regions_import_shipped(actor=None)
    villages = list(Region.objects.filter(level="village", code__startswith=COUNTY).order_by("code")
                    .values_list("code", flat=True))  # fmt: skip
    townships = sorted({v[:9] for v in villages})
    rules: dict[str, dict[str, tuple[int, int, str]]] = {}  # township → code → (rule id, points, name)
    shops: dict[str, tuple[int, str]] = {}
    for t in townships:
        book = services.rulebook_adopt(actor=None, area_code=t, title="积分制管理办法", adopted_on=date(2022, 12, 1),
                                       votes_for=80, votes_total=90, rules=TOWNSHIP_RULES)  # fmt: skip
        rules[t] = {r.code: (r.pk, r.points, r.name) for r in book.rules.all()}
        s = shop_create(actor=None, area_code=t, name="振风超市")
        shops[t] = (s.pk, s.name)
    connection.ensure_connection()
    cur = connection.connection.cursor()
    now = "2026-01-01 00:00:00"
    cur.execute("BEGIN")
    h_rows, areas = [], []
    for v in villages:
        for i in range(HOUSEHOLDS_PER_VILLAGE):
            area = f"{v}{1 + i % 3:03d}"
            h_rows.append((area, v, f"P{i:05d}", "", f"户主{len(h_rows)}", 3, "", "合成数据（积分基准）", now, now))
            areas.append(area)
    first_h = (cur.execute("SELECT COALESCE(MAX(id), 0) FROM residents_household").fetchone()[0]) + 1
    _insert(cur, "residents_household", ["area_code", "village_code", "number", "address", "head_name",
                                         "member_count", "tags", "note", "created_at", "updated_at"], h_rows)  # fmt: skip
    n = len(h_rows)
    first_a = (cur.execute("SELECT COALESCE(MAX(id), 0) FROM points_account").fetchone()[0]) + 1
    _insert(cur, "points_account", ["subject_kind", "household_id", "name", "area_code", "balance", "earned_total",
                                    "updated_at"],
            [("household", first_h + i, f"户主{i}户", areas[i], 0, 0, now) for i in range(n)])  # fmt: skip
    cur.execute("COMMIT")
    # secondary indexes of the big tables are dropped while rows go in and built once at the end
    # (one sort per index instead of millions of random B-tree inserts)
    big = ("points_ledgerentry", "points_award", "points_redemption")
    indexes = cur.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN {big}"
    ).fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    cur.execute("PRAGMA cache_size = -400000")
    heavy = next(i for i in range(n) if areas[i].startswith(LIUCHONG))
    balance, earned = [0] * n, [0] * n
    entry_id = (cur.execute("SELECT COALESCE(MAX(id), 0) FROM points_ledgerentry").fetchone()[0]) + 1
    award_id = (cur.execute("SELECT COALESCE(MAX(id), 0) FROM points_award").fetchone()[0]) + 1
    red_id = (cur.execute("SELECT COALESCE(MAX(id), 0) FROM points_redemption").fetchone()[0]) + 1
    # awards per account-month so that the total lands near TARGET_ENTRIES
    per_month = (TARGET_ENTRIES - HEAVY_EXTRA) / (n * MONTHS)
    scale = per_month / (sum(p for _, p in HOUSEHOLD_AWARDS) * 1.12)
    heavy_k = 1 + round(HEAVY_EXTRA / (MONTHS * sum(p for _, p in HOUSEHOLD_AWARDS) * scale))
    entry_cols = ["id", "account_id", "area_code", "kind", "amount", "balance_after", "source", "note",
                  "idempotency_key", "created_at"]  # fmt: skip
    award_cols = ["id", "rule_id", "account_id", "area_code", "points", "occurred_on", "reason", "evidence", "status",
                  "claimed", "reviewed_at", "review_note", "publicity_until", "posted_entry_id", "created_at"]  # fmt: skip
    red_cols = ["id", "shop_id", "account_id", "area_code", "total", "status", "idempotency_key", "request_hash",
                "created_at"]  # fmt: skip
    totals = {"entries": 0, "awards": 0, "redemptions": 0}
    y, m = FIRST_MONTH
    for _ in range(MONTHS):
        days = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
        events = []  # (posted at, account index, kind, code or None, day)
        for i in range(n):
            k = heavy_k if i == heavy else 1
            for code, p in HOUSEHOLD_AWARDS:
                for _ in range(k):
                    if rng.random() < p * scale:
                        events.append((rng.randrange(days), rng.randrange(86400), i, "a", code))
            for code, p in DEDUCTIONS:
                if rng.random() < p:
                    events.append((rng.randrange(days), rng.randrange(86400), i, "d", code))
            if rng.random() < 0.22 * scale * 4:
                events.append((rng.randrange(days), rng.randrange(86400), i, "r", None))
        events.sort()
        e_rows, a_rows, r_rows = [], [], []
        for day, sec, i, kind, code in events:
            occurred = date(y, m, 1) + timedelta(days=day)
            posted = datetime(occurred.year, occurred.month, occurred.day) + timedelta(days=4, seconds=sec)
            area, township = areas[i], areas[i][:9]
            if kind == "r":
                if balance[i] < 20:
                    continue
                total = rng.randint(10, min(120, balance[i]))
                balance[i] -= total
                when = datetime(occurred.year, occurred.month, occurred.day) + timedelta(seconds=sec)
                shop_id, shop_name = shops[township]
                r_rows.append((red_id, shop_id, first_a + i, area, total, "done", f"bench:{red_id}", "", _ts(when)))
                e_rows.append((entry_id, first_a + i, area, "redemption", -total, balance[i], f"redemption:{red_id}",
                               f"{shop_name}兑换", f"redemption:bench:{red_id}", _ts(when)))  # fmt: skip
                red_id += 1
                entry_id += 1
                continue
            rule_id, points, name = rules[township][code]
            if points < 0:
                points = max(points, -balance[i])
                if points == 0:
                    continue
            balance[i] += points
            if points > 0:
                earned[i] += points
            reviewed = datetime(occurred.year, occurred.month, occurred.day, 10) + timedelta(days=1)
            a_rows.append((award_id, rule_id, first_a + i, area, points, occurred.isoformat(), name, "", "posted",
                           False, _ts(reviewed), "", _ts(reviewed + timedelta(days=3)), entry_id,
                           _ts(reviewed - timedelta(hours=20))))  # fmt: skip
            e_rows.append((entry_id, first_a + i, area, "award" if points > 0 else "deduction", points, balance[i],
                           f"award:{award_id}", name, f"award:{award_id}", _ts(posted)))  # fmt: skip
            award_id += 1
            entry_id += 1
        cur.execute("BEGIN")
        totals["redemptions"] += _insert(cur, "points_redemption", red_cols, r_rows)
        totals["entries"] += _insert(cur, "points_ledgerentry", entry_cols, e_rows)
        totals["awards"] += _insert(cur, "points_award", award_cols, a_rows)
        cur.execute("COMMIT")
        print(f"{y}-{m:02d}: {totals['entries']:,} entries", file=sys.stderr, flush=True)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    cur.execute("BEGIN")
    cur.executemany("UPDATE points_account SET balance = ?, earned_total = ? WHERE id = ?",
                    [(balance[i], earned[i], first_a + i) for i in range(n)])  # fmt: skip
    cur.execute("COMMIT")
    for name, sql in indexes:
        print(f"index {name}", file=sys.stderr, flush=True)
        cur.execute(sql)
    cur.execute("ANALYZE")
    cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {"villages": len(villages), "households": n, **totals, "heavy_account": first_a + heavy,
            "heavy_entries": cur.execute("SELECT COUNT(*) FROM points_ledgerentry WHERE account_id = ?",
                                         [first_a + heavy]).fetchone()[0]}  # fmt: skip


def build(log) -> dict:
    marker = DIR / "READY.json"
    if marker.exists():
        if not (DIR / "static" / "staticfiles.json").exists():
            _run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], directory=DIR)
        return json.loads(marker.read_text())
    if DIR.exists():
        shutil.rmtree(DIR)
    DIR.mkdir(parents=True)
    log("构建 500 万笔积分流水的 SQLite 数据（一次性，之后复用）…")
    _run([PY, "manage.py", "migrate", "--noinput", "-v0"], directory=DIR)
    _run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], directory=DIR)  # the pages need the manifest
    t = time.perf_counter()
    info = _last_json(_run([PY, __file__, "generate"], directory=DIR))
    info["seconds"] = round(time.perf_counter() - t, 1)
    info["size_mb"] = round(sum(f.stat().st_size for f in DIR.glob("*.sqlite3*")) / 1e6)
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=1))
    log(f"  完成，用时 {info['seconds']} 秒")
    return info


def _bare_urls():
    """A URLconf with the project's URLs plus two bare views running the ledger page's
    keyset query (``account_id = ? AND id < ? ORDER BY id DESC LIMIT 51``, actor joined)
    and rendering it minimally (HTML) or as JSON — same middleware, same session."""
    import types

    from django.contrib.auth.decorators import login_required
    from django.http import HttpResponse, JsonResponse
    from django.template import engines
    from django.urls import include, path

    from xiangzhi.points.models import LedgerEntry

    template = engines["django"].from_string(
        "<!doctype html><title>bare</title><table>{% for e in rows %}<tr><td>{{ e.created_at|date:'Y-m-d H:i' }}"
        "</td><td>{{ e.kind }}</td><td>{{ e.amount }}</td><td>{{ e.balance_after }}</td><td>{{ e.source }}</td>"
        "<td>{{ e.note }}</td></tr>{% endfor %}</table>"
    )

    def rows(request, pk):
        qs = LedgerEntry.objects.filter(account_id=pk)
        before = request.GET.get("before")
        if before:
            qs = qs.filter(id__lt=int(before))
        return list(qs.select_related("actor").order_by("-id")[:51])[:50]

    @login_required
    def bare_html(request, pk):
        return HttpResponse(template.render({"rows": rows(request, pk)}, request))

    @login_required
    def bare_json(request, pk):
        return JsonResponse({"items": [
            {"id": e.pk, "kind": e.kind, "amount": e.amount, "balance_after": e.balance_after, "source": e.source,
             "note": e.note, "created_at": e.created_at} for e in rows(request, pk)]})  # fmt: skip

    module = types.ModuleType("points_bench_urls")
    module.urlpatterns = [
        path("bench/ledger/<int:pk>/", bare_html),
        path("bench/ledger/<int:pk>/json/", bare_json),
        path("", include("xiangzhi.urls")),
    ]
    sys.modules["points_bench_urls"] = module
    return "points_bench_urls"


def cmd_measure_sqlite(args) -> dict:
    _django()
    import sqlite3

    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import clear_url_caches

    from benchmarks.measure import bench_user, interleaved, logged_in_client
    from xiangzhi.core import periods
    from xiangzhi.points import services
    from xiangzhi.points.models import Account, LedgerEntry

    settings.ROOT_URLCONF = _bare_urls()
    settings.ALLOWED_HOSTS = ["*"]
    clear_url_caches()
    info = json.loads((DIR / "READY.json").read_text())
    secretary = bench_user("bench_liuchong", "village_secretary", [LIUCHONG])
    client: Client = logged_in_client(secretary)
    heavy = info["heavy_account"]
    typical = (Account.objects.filter(area_code__startswith=LIUCHONG).exclude(pk=heavy).order_by("id")
               .values_list("id", flat=True).first())  # fmt: skip
    ids = list(LedgerEntry.objects.filter(account_id=heavy).order_by("id").values_list("id", flat=True))
    deep = ids[len(ids) // 2]

    def get(url):
        def call():
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)
            return r

        return call

    pages = {
        "html_first": (f"/points/accounts/{typical}/", f"/bench/ledger/{typical}/"),
        "html_deep": (f"/points/accounts/{heavy}/?before={deep}", f"/bench/ledger/{heavy}/?before={deep}"),
        "api_first": (f"/api/v1/points/accounts/{typical}/ledger", f"/bench/ledger/{typical}/json/"),
        "api_deep": (f"/api/v1/points/accounts/{heavy}/ledger?before={deep}",
                     f"/bench/ledger/{heavy}/json/?before={deep}"),
    }  # fmt: skip
    # the same rows on both sides
    same = {}
    for key in ("api_first", "api_deep"):
        ours_url, bare_url = pages[key]
        a = [e["id"] for e in client.get(ours_url).json()["items"]]
        b = [e["id"] for e in client.get(bare_url).json()["items"]]
        same[key] = a == b and len(a) == 50
    fns = {}
    for key, (ours_url, bare_url) in pages.items():
        fns[f"{key}:ours"] = get(ours_url)
        fns[f"{key}:bare"] = get(bare_url)
    medians = interleaved(fns, args.reps)
    queries = {}
    for key, (ours_url, _) in pages.items():
        with CaptureQueriesContext(connection) as q:
            client.get(ours_url)
        queries[key] = len(q.captured_queries)
    # (c) the 红黑榜 draft of 刘冲村 for a month, rolled back after each run
    period = periods.month(2025, 11)
    draft_times, draft_info = [], {}
    for _ in range(args.draft_reps):
        with transaction.atomic():
            t = time.perf_counter()
            with CaptureQueriesContext(connection) as q:
                board = services.list_generate(actor=secretary, village_code=LIUCHONG, period_kind="month",
                                               period_start=period.start)  # fmt: skip
            draft_times.append(time.perf_counter() - t)
            draft_info = {"queries": len(q.captured_queries), "honor": board.entries.filter(side="honor").count(),
                          "warning": board.entries.filter(side="warning").count()}  # fmt: skip
            transaction.set_rollback(True)
    from xiangzhi.points.models import Award

    draft_info["awards_in_month"] = Award.objects.filter(area_code__startswith=LIUCHONG, status="posted",
                                                         occurred_on__gte=period.start,
                                                         occurred_on__lt=period.end).count()  # fmt: skip
    return {
        "sqlite": sqlite3.sqlite_version,
        "data": info,
        "typical_entries": LedgerEntry.objects.filter(account_id=typical).count(),
        "same_rows": same,
        "pages_ms": {k: round(v * 1000, 2) for k, v in medians.items()},
        "queries": queries,
        "draft_ms": _median_ms(draft_times),
        "draft_max_ms": round(max(draft_times) * 1000, 1),
        "draft": draft_info,
    }


# =========================================================================================
# main
# =========================================================================================
def _table(rows: list[tuple]) -> str:
    widths = [max(_w(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append(" | ".join(str(c) + " " * (widths[i] - _w(str(c))) for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def _w(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("generate")
    ms = sub.add_parser("measure-sqlite")
    ms.add_argument("--reps", type=int, default=30)
    ms.add_argument("--draft-reps", type=int, default=7)
    mp = sub.add_parser("measure-pg")
    for p in (parser, mp):
        p.add_argument("--threads", type=int, default=8, help="workers: processes, and as many threads")
        p.add_argument("--redemptions", type=int, default=2000, help="throughput run: attempts = stock")
        p.add_argument("--oversell-stock", type=int, default=100)
        p.add_argument("--oversell-attempts", type=int, default=1000)
        p.add_argument("--pg-reps", type=int, default=3)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--draft-reps", type=int, default=7)
    parser.add_argument("--skip", default="", help="pg,sqlite")
    args = parser.parse_args(argv)
    if args.cmd == "generate":
        print(json.dumps(cmd_generate(args), ensure_ascii=False))
        return
    if args.cmd == "measure-sqlite":
        print(json.dumps(cmd_measure_sqlite(args), ensure_ascii=False, default=str))
        return
    if args.cmd == "measure-pg":
        print(json.dumps(cmd_measure_pg(args), ensure_ascii=False, default=str))
        return

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    skip = set(filter(None, args.skip.split(",")))
    t0 = time.perf_counter()
    results: dict = {"load_average": os.getloadavg()[0], "cpus": os.cpu_count()}
    rows = [("测量项", "本系统", "基线", "比值", "目标", "结果")]
    if "pg" not in skip:
        log("PostgreSQL：准备临时数据库并迁移…")
        _ensure_pg_database()
        _run([PY, "manage.py", "migrate", "--noinput", "-v0"], database_url=PG_URL)
        log(f"PostgreSQL：{args.threads} 个进程 / 线程兑换 vs 裸 UPDATE …")
        pg = _last_json(_run([PY, __file__, "measure-pg", "--threads", str(args.threads), "--redemptions",
                              str(args.redemptions), "--oversell-stock", str(args.oversell_stock),
                              "--oversell-attempts", str(args.oversell_attempts), "--pg-reps", str(args.pg_reps)],
                             database_url=PG_URL))  # fmt: skip
        results["pg"] = pg
        n = pg["workers"]
        for mode, label in (("processes", f"(a) PG 兑换吞吐 redemption_create（{n} 个进程，同一商品，库存 "
                                          f"{args.redemptions}）vs 裸 UPDATE stock-1 循环（{n} 个进程）"),
                            ("threads", f"    同上，{n} 个线程（一个进程）vs 裸 UPDATE（{n} 个线程）")):  # fmt: skip
            m = pg[mode]
            ratio = m["ours_per_second"] / m["bare_per_second"]
            rows.append((label, f"{m['ours_per_second']:.0f} 笔/秒", f"{m['bare_per_second']:.0f} 次/秒",
                         f"{ratio:.2f}×", "≥ 0.5×" if mode == "processes" else "",
                         _verdict(ratio >= 0.5) if mode == "processes" else "—"))  # fmt: skip
        one = pg["single"]
        rows.append((f"    参照：单进程每笔耗时（其中客户端 CPU），本系统 {one['statements']} 条语句 + BEGIN/COMMIT"
                     " vs 1 条自动提交的 UPDATE",
                     f"{one['ours_ms']:.2f} ms（{one['ours_cpu_ms']:.2f}）", f"{one['bare_ms']:.2f} ms（{one['bare_cpu_ms']:.2f}）",
                     f"{one['bare_ms'] / one['ours_ms']:.2f}×", "", "—"))  # fmt: skip
        for key in ("oversell", "oversell_threads"):
            o = pg[key]
            ok = o["sold"] == o["stock"] and o["stock_after"] == 0 and o["oversold"] == 0 and o["ledger_ok"] and \
                o["moves_match"] and o["errors"] == 0  # fmt: skip
            rows.append((f"    超卖检查：{o['attempts']} 次兑换抢 {o['stock']} 件库存（{o['workers']} 个"
                         f"{'进程' if o['mode'] == 'processes' else '线程'}）",
                         f"售出 {o['sold']}，拒绝 {o['refused']}", f"剩余库存 {o['stock_after']}",
                         f"超卖 {o['oversold']}", "0 超卖、账平", _verdict(ok)))  # fmt: skip
    if "sqlite" not in skip:
        info = build(log)
        log("SQLite：测量流水页与红黑榜草稿…")
        sq = _last_json(_run([PY, __file__, "measure-sqlite", "--reps", str(args.reps), "--draft-reps",
                              str(args.draft_reps)], directory=DIR))  # fmt: skip
        results["sqlite"] = sq
        p = sq["pages_ms"]
        labels = {
            "html_first": f"(b) 户积分流水页 GET /points/accounts/<户>/（{sq['typical_entries']} 笔的户，首页）",
            "html_deep": f"(b) 同上，{info['heavy_entries']:,} 笔的户，翻到中间一页（?before=）",
            "api_first": "(b) API GET /api/v1/points/accounts/<户>/ledger（首页）",
            "api_deep": "(b) API 同上，翻到中间一页（?before=）",
        }
        for key, label in labels.items():
            ours, bare = p[f"{key}:ours"], p[f"{key}:bare"]
            ratio = ours / bare
            rows.append((f"{label} vs 同查询裸视图", f"{ours:.1f} ms", f"{bare:.1f} ms", f"{ratio:.2f}×", "≤ 1.5×",
                         _verdict(ratio <= 1.5)))  # fmt: skip
        d = sq["draft"]
        rows.append((f"(c) 刘冲村 2025年11月红黑榜草稿 list_generate（当月 {d['awards_in_month']} 条已入账申报，"
                     f"{d['queries']} 条查询）", f"{sq['draft_ms']:.0f} ms", "", "", "< 1 秒",
                     _verdict(sq["draft_max_ms"] < 1000)))  # fmt: skip
    results["seconds"] = round(time.perf_counter() - t0)
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "points_results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    print(f"机器：{os.cpu_count()} cores, Python {sys.version.split()[0]}, load average at start "
          f"{results['load_average']:.1f}")  # fmt: skip
    if "pg" in results:
        print(f"PostgreSQL {results['pg']['server']}；数据库 {PG_URL.rpartition('/')[2]}")
    if "sqlite" in results:
        i = results["sqlite"]["data"]
        print(
            f"SQLite {results['sqlite']['sqlite']}；数据：{i['households']:,} 户，流水 {i['entries']:,} 笔，"
            f"申报 {i['awards']:,} 条，兑换 {i['redemptions']:,} 笔（{i.get('size_mb', '?')} MB，生成 {i['seconds']} 秒）"
        )
        print(f"核对：本系统与裸视图返回同样的 50 笔流水 = {results['sqlite']['same_rows']}")
    print()
    print(_table(rows))
    print(f"\n总用时 {results['seconds']} 秒")


if __name__ == "__main__":
    main()
