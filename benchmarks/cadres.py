#!/usr/bin/env python
"""Cadre and field-work benchmarks (not tests): ``.venv/bin/python benchmarks/cadres.py``.

Builds one synthetic county — 金寨县's shipped division tree, ~150k households, 2,000 cadres
with their posts (and some ended ones), a contact assignment (四联四帮 / 连心工程) for every
household, a 板凳会 group for every village cadre, and 500k visits over 2023–2025 with about
one household each — written with ``executemany`` into its own SQLite database under
``benchmarks/data/cadres/`` (kept between runs; delete the directory to rebuild it). Then it
prints one table measured in this run:

  (a) coverage of a township for a period: ``visits.metrics.coverage`` + ``visit_counts``
      (白塔畈镇; a year and a month) vs the best hand-written SQL for the same numbers   ≤ 1.3×
  (b) roster analytics for the whole county: ``cadres.metrics.roster`` (and
      ``roster_change`` between two dates)                                 well under 1 s

Sub-commands (run by the main command in subprocesses with XIANGZHI_DATA_DIR set):
``generate``, ``measure --reps R``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
DIR = DATA / "cadres"
PY = sys.executable
SEED = 1
COUNTY = "341524"
TOWNSHIP = "341524111"  # 白塔畈镇
CADRES = 2_000
VISITS = 500_000
HOUSEHOLDS_PER_VILLAGE = (450, 850)
FIRST, LAST = date(2023, 1, 1), date(2025, 12, 31)


def _env(directory: Path) -> dict:
    env = dict(os.environ)
    env["XIANGZHI_DATA_DIR"] = str(directory)
    env["DJANGO_SETTINGS_MODULE"] = "xiangzhi.settings"
    env.pop("DATABASE_URL", None)
    env.pop("XIANGZHI_FIELD_KEY", None)
    return env


def _run(args, directory: Path) -> str:
    proc = subprocess.run(args, cwd=ROOT, env=_env(directory), text=True, capture_output=True, check=False)
    if proc.returncode:
        sys.stderr.write((proc.stdout or "") + (proc.stderr or ""))
        raise SystemExit(f"failed: {' '.join(map(str, args))}")
    return proc.stdout or ""


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def build(log) -> dict:
    marker = DIR / "READY.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if DIR.exists():
        shutil.rmtree(DIR)
    DIR.mkdir(parents=True)
    log("构建县级规模的干部与走访数据（一次性，之后复用）…")
    _run([PY, "manage.py", "migrate", "--noinput", "-v0"], DIR)
    t = time.perf_counter()
    info = _last_json(_run([PY, __file__, "generate"], DIR))
    info["seconds"] = round(time.perf_counter() - t, 1)
    info["built_at"] = time.strftime("%Y-%m-%d %H:%M")
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=1))
    log(f"  完成，用时 {info['seconds']} 秒")
    return info


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangzhi.settings")
    import django

    django.setup()


# =========================================================================================
# generate
# =========================================================================================
def _insert(cur, model, fields: list[str], rows) -> int:
    """executemany into a model's table: ``fields`` are model field names (FKs as
    ``<name>_id``) in the order of each row tuple."""
    columns = [model._meta.get_field(f.removesuffix("_id") if f.endswith("_id") else f).column for f in fields]
    quoted = ", ".join('"' + c + '"' for c in columns)
    sql = f"INSERT INTO {model._meta.db_table} ({quoted}) VALUES ({', '.join('?' * len(columns))})"
    rows = list(rows)
    cur.executemany(sql, rows)
    return len(rows)


def _max_id(cur, model) -> int:
    return cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}").fetchone()[0]


def cmd_generate(args) -> dict:
    """Deterministic county: households (no residents: the metrics never read them),
    cadres and posts, contact assignments, visits with their household rows."""
    _django()
    from django.db import connection

    from xiangzhi.cadres.models import Cadre, Post
    from xiangzhi.org.models import Region
    from xiangzhi.org.services import regions_import_shipped
    from xiangzhi.residents.models import Household
    from xiangzhi.visits.models import ContactAssignment, Problem, Visit, VisitHousehold

    rng = random.Random(f"cadres-bench:{SEED}")
    regions_import_shipped(actor=None)
    villages = list(
        Region.objects.filter(level="village", code__startswith=COUNTY).order_by("code").values_list("code", flat=True)
    )
    townships = sorted({v[:9] for v in villages})
    now = "2026-01-01 00:00:00"
    connection.ensure_connection()
    db = connection.connection
    cur = db.cursor()
    cur.execute("BEGIN")
    # --- households: 2–4 grids per village ------------------------------------------------
    h_rows, h_area = [], []
    for v in villages:
        grids = [f"{v}{g:03d}" for g in range(1, rng.randint(2, 4) + 1)]
        for i in range(rng.randint(*HOUSEHOLDS_PER_VILLAGE)):
            area = grids[i % len(grids)]
            h_rows.append((area, v, f"B{i:05d}", "", "合成户主", 3, "", "合成数据（规模测试）", now, now))
            h_area.append(area)
    first_h = _max_id(cur, Household) + 1
    _insert(cur, Household, ["area_code", "village_code", "number", "address", "head_name", "member_count", "tags",
                             "note", "created_at", "updated_at"], h_rows)  # fmt: skip
    households = {}  # village → [(household id, grid)]
    for offset, area in enumerate(h_area):
        households.setdefault(area[:12], []).append((first_h + offset, area))
    # --- cadres: 6 per village, the rest township cadres; posts, some ended -------------------
    units = [v for v in villages for _ in range(6)]
    units += [townships[i % len(townships)] for i in range(CADRES - len(units))]
    edu = ["postgraduate", "bachelor", "bachelor", "junior_college", "junior_college", "secondary", "junior"]
    est_t = ["civil_service", "public_institution", "public_institution", "sanzhi_yifu", "civil_service"]
    c_rows = []
    for i, unit in enumerate(units):
        village = len(unit) == 12
        birth = date(1962 + rng.randrange(38), 1 + rng.randrange(12), 1 + rng.randrange(28))
        c_rows.append((unit, "village" if village else "township", f"干部{i:04d}", rng.choice(["male", "female"]),
                       birth.isoformat(), rng.choice(edu), rng.random() < 0.3, rng.random() < 0.7,
                       "village" if village else rng.choice(est_t), now))  # fmt: skip
    first_c = _max_id(cur, Cadre) + 1
    _insert(cur, Cadre, ["area_code", "level", "name", "sex", "birth_date", "education", "college_graduate",
                         "party_member", "establishment", "created_at"], c_rows)  # fmt: skip
    p_rows = []
    by_unit: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        cid = first_c + i
        by_unit.setdefault(unit, []).append(cid)
        k = len(by_unit[unit]) - 1
        village = len(unit) == 12
        start = date(2021, 1, 15) if village else date(2015 + rng.randrange(8), 3, 1)
        title = (
            ("村党组织书记、村委会主任" if k == 0 else "村委会委员")
            if village
            else ("党委书记" if k == 0 else "工作人员")
        )
        p_rows.append((cid, unit, title, k < 2, village and k == 0, village and k == 0, "", start.isoformat(), None))
        if rng.random() < 0.3:  # an older post, ended: history
            p_rows.append((cid, unit, "工作人员", False, False, False, "", date(2012, 3, 1).isoformat(),
                           start.isoformat()))  # fmt: skip
    _insert(cur, Post, ["cadre_id", "area_code", "title", "leadership", "is_secretary", "is_director", "honorary",
                        "start", "end"], p_rows)  # fmt: skip
    # --- contacts: every household to a village cadre (四联四帮), some also to a township
    #     cadre (连心工程); a 板凳会 group for every village cadre ------------------------------
    a_rows, links = [], []  # links: (cadre id, household id, grid)
    for v in villages:
        vc, tc = by_unit[v], by_unit.get(v[:9], [])
        for n, (hid, grid) in enumerate(households[v]):
            cid = vc[n % len(vc)]
            a_rows.append((cid, "four_links", hid, "", grid, "", "2021-03-01", None))
            links.append((cid, hid, grid))
            if tc and rng.random() < 0.3:
                t = tc[n % len(tc)]
                a_rows.append((t, "heart_link", hid, "", grid, "", "2021-03-01", None))
                links.append((t, hid, grid))
        for g, cid in enumerate(vc):
            a_rows.append((cid, "bench_meeting", None, f"{g + 1}组", v, "", "2021-03-01", None))
    _insert(cur, ContactAssignment, ["cadre_id", "kind", "household_id", "group_name", "area_code", "help", "start",
                                     "end"], a_rows)  # fmt: skip
    # --- visits: ~1 household each (5 % two neighbours), 3 % 板凳会 --------------------------
    days = (LAST - FIRST).days + 1
    by_grid: dict[str, list[int]] = {}
    for _, hid, grid in links:
        by_grid.setdefault(grid, []).append(hid)
    benches = [(cid, v) for v in villages for cid in by_unit[v]]
    first_v = _max_id(cur, Visit) + 1
    v_rows, vh_rows, m2m_rows, pr_rows = [], [], [], []
    for i in range(VISITS):
        vid = first_v + i
        day = (FIRST + timedelta(days=rng.randrange(days))).isoformat()
        if rng.random() < 0.03:
            cid, v = benches[rng.randrange(len(benches))]
            v_rows.append((cid, v, day, "bench_meeting", f"{rng.randint(1, 6)}组", rng.randint(8, 30), "板凳会", now))
            continue
        cid, hid, grid = links[rng.randrange(len(links))]
        v_rows.append((cid, grid, day, "visit", "", 0, "入户走访", now))
        hids = [hid]
        if rng.random() < 0.05:
            other = by_grid[grid][rng.randrange(len(by_grid[grid]))]
            if other != hid:
                hids.append(other)
        for h in hids:
            vh_rows.append((vid, h, cid, grid, day))
            m2m_rows.append((vid, h))
        if rng.random() < 0.08:
            pr_rows.append((vid, grid, hid, "合成问题", now))
    _insert(cur, Visit, ["cadre_id", "area_code", "visited_on", "kind", "group_name", "attendees", "summary",
                         "created_at"], v_rows)  # fmt: skip
    _insert(cur, VisitHousehold, ["visit_id", "household_id", "cadre_id", "area_code", "visited_on"], vh_rows)
    through = Visit.households.through
    cur.executemany(f"INSERT INTO {through._meta.db_table} (visit_id, household_id) VALUES (?, ?)", m2m_rows)
    _insert(cur, Problem, ["visit_id", "area_code", "household_id", "description", "created_at"], pr_rows)
    cur.execute("COMMIT")
    cur.execute("ANALYZE")
    cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "villages": len(villages),
        "townships": len(townships),
        "households": len(h_rows),
        "cadres": len(c_rows),
        "posts": len(p_rows),
        "contacts": len(a_rows),
        "visits": len(v_rows),
        "visit_households": len(vh_rows),
        "problems": len(pr_rows),
        "in_township_visits": sum(1 for r in v_rows if r[1].startswith(TOWNSHIP)),
    }


# =========================================================================================
# measure
# =========================================================================================
HAND_SQL = """
SELECT v.n, v.attendees, h.times, h.households, c.assigned, c.visited
FROM
  (SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN kind = 'bench_meeting' THEN attendees END), 0) AS attendees
     FROM visits_visit
    WHERE area_code >= :lo AND area_code < :hi AND visited_on >= :s AND visited_on < :e) v,
  (SELECT COUNT(*) AS times, COUNT(DISTINCT household_id) AS households
     FROM visits_visithousehold
    WHERE area_code >= :lo AND area_code < :hi AND visited_on >= :s AND visited_on < :e) h,
  (SELECT COUNT(DISTINCT a.household_id) AS assigned,
          COUNT(DISTINCT CASE WHEN EXISTS (
              SELECT 1 FROM visits_visithousehold vh
               WHERE vh.household_id = a.household_id AND vh.visited_on >= :s AND vh.visited_on < :e)
            THEN a.household_id END) AS visited
     FROM visits_contactassignment a
    WHERE a.area_code >= :lo AND a.area_code < :hi AND a.household_id IS NOT NULL
      AND a.start <= :last AND (a."end" IS NULL OR a."end" > :last)) c
"""


def by_hand(area: str, period) -> dict:
    """The numbers of visit_counts + coverage for one area and period, straight from SQL:
    one statement, each table read once over the area range of its covering index."""
    from decimal import ROUND_HALF_UP, Decimal

    from django.db import connection

    params = {
        "lo": area,
        "hi": str(int(area) + 1).zfill(len(area)),
        "s": period.start.isoformat(),
        "e": period.end.isoformat(),
        "last": (period.end - timedelta(days=1)).isoformat(),
    }
    with connection.cursor() as cur:
        cur.execute(HAND_SQL, params)
        visits, attendees, times, households, assigned, visited = cur.fetchone()
    pct = (Decimal(visited) * 100 / Decimal(assigned)).quantize(Decimal("0.01"), ROUND_HALF_UP) if assigned else None
    return {
        "visits": visits,
        "household_visits": times,
        "households_visited": households,
        "person_times": times + attendees,
        "assigned": assigned,
        "visited": visited,
        "coverage": pct,
    }


def ours(area: str, period) -> dict:
    from xiangzhi.visits import metrics

    return {**metrics.visit_counts(area, period), **metrics.coverage(area, period)}


def _plan(sql: str) -> list[str]:
    from django.db import connection

    try:
        return [row[-1] for row in connection.connection.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]
    except sqlite3.Error as exc:
        return [f"(no plan: {exc})"]


def cmd_measure(args) -> dict:
    _django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from benchmarks.measure import interleaved
    from xiangzhi.cadres import metrics as roster_metrics
    from xiangzhi.core import periods

    out: dict = {"sqlite": sqlite3.sqlite_version}
    for label, period in (("year", periods.year(2024)), ("month", periods.month(2024, 6))):
        mine, hand = ours(TOWNSHIP, period), by_hand(TOWNSHIP, period)
        with CaptureQueriesContext(connection) as q:
            ours(TOWNSHIP, period)
        times = interleaved({"ours": lambda p=period: ours(TOWNSHIP, p), "hand": lambda p=period: by_hand(TOWNSHIP, p)},
                            args.reps)  # fmt: skip
        out[label] = {
            "period": period.label,
            "numbers": {k: str(v) for k, v in mine.items()},
            "same": mine == hand,
            "diff": {k: (str(mine[k]), str(hand[k])) for k in mine if mine[k] != hand.get(k)},
            "queries": len(q.captured_queries),
            "plans": [_plan(x["sql"]) for x in q.captured_queries],
            **times,
        }
    on = date(2025, 6, 30)
    roster = roster_metrics.roster(COUNTY, on)
    with CaptureQueriesContext(connection) as q:
        roster_metrics.roster(COUNTY, on)
    out["roster"] = {
        "headcount": roster.headcount,
        "average_age": str(roster.average_age),
        "villages": roster.villages,
        "villages_with_dual_role": roster.villages_with_dual_role,
        "queries": len(q.captured_queries),
        **interleaved(
            {
                "roster": lambda: roster_metrics.roster(COUNTY, on),
                "change": lambda: roster_metrics.roster_change(COUNTY, date(2020, 6, 30), on),
            },
            max(5, args.reps // 3),
        ),  # fmt: skip
    }
    return out


# =========================================================================================
# the table
# =========================================================================================
def _w(text) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _pad(text, width: int) -> str:
    return str(text) + " " * (width - _w(text))


def main_run(args):
    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    sys.path.insert(0, str(ROOT))
    from benchmarks.run import machine, revision

    started = time.perf_counter()
    built = build(log)
    log("计时 …")
    m = _last_json(_run([PY, __file__, "measure", "--reps", str(args.reps)], DIR))
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    rows = []
    for key in ("year", "month"):
        r = m[key]
        ratio = r["ours"] / r["hand"]
        ok = ratio <= 1.3 and r["same"]
        rows.append((f"(a) 白塔畈镇走访覆盖 coverage+visit_counts（{r['period']}，{r['queries']} 条查询）vs 手写 SQL",
                     ms(r["ours"]), ms(r["hand"]), f"{ratio:.2f}×", "≤ 1.3×", "PASS" if ok else "FAIL"))  # fmt: skip
    ro = m["roster"]
    rows.append((f"(b) 全县干部队伍分析 roster（{ro['headcount']} 人，{ro['queries']} 条查询）", ms(ro["roster"]), "", "",
                 "< 1 秒", "PASS" if ro["roster"] < 1 else "FAIL"))  # fmt: skip
    rows.append(
        ("    两个日期对比 roster_change", ms(ro["change"]), "", "", "< 1 秒", "PASS" if ro["change"] < 1 else "FAIL")
    )
    header = ("测量项", "本系统", "手写 SQL", "比值", "目标", "结果")
    widths = [max(_w(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(f"机器：{machine()}；版本 {revision()}")
    print(f"数据：全县 {built['townships']} 个乡镇 {built['villages']} 个村，{built['households']} 户，干部 {built['cadres']} 人"
          f"（任职 {built['posts']} 条），联系户 {built['contacts']} 条，走访 {built['visits']} 次"
          f"（户次 {built['visit_households']}，白塔畈镇 {built['in_township_visits']} 次），生成用时 {built['seconds']} 秒")  # fmt: skip
    for key in ("year", "month"):
        r = m[key]
        print(f"核对（{r['period']}）：与手写 SQL 相同={r['same']}；{r['numbers']}")
    print()
    print(" | ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)))
    print(f"\n总用时 {time.perf_counter() - started:.0f} 秒；{args.reps} 次交替测量的中位数。")
    result = {"built": built, "measure": m, "table": rows, "machine": machine(), "revision": revision()}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd")
    sub.add_parser("generate")
    m = sub.add_parser("measure")
    m.add_argument("--reps", type=int, default=60)
    parser.add_argument("--reps", type=int, default=60)
    parser.add_argument("--json", default=str(DATA / "cadres.json"))
    args = parser.parse_args()
    if args.cmd == "generate":
        print(json.dumps(cmd_generate(args), ensure_ascii=False))
    elif args.cmd == "measure":
        print(json.dumps(cmd_measure(args), ensure_ascii=False, default=str))
    else:
        main_run(args)


if __name__ == "__main__":
    main()
