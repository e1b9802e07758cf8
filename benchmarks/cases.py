#!/usr/bin/env python
"""Case engine benchmarks (not tests): ``.venv/bin/python benchmarks/cases.py``.

Builds two synthetic counties of cases — 10k and 100k cases over the whole of 金寨县
(shipped division tree, synthetic grids), each in its own SQLite database under
``benchmarks/data/cases<N>/`` (kept between runs; delete a directory to rebuild it) — and
prints one table measured in this run:

  (a) work-bench queue  GET /cases/ (township admin, 我的待办) vs a bare view of the same query   ≤ 1.5×
  (b) case list         GET /cases/?tab=all vs a bare view of the same query                  ≤ 1.5×
  (c) the same two pages at 100k vs 10k cases (O(page))                                     ≤ 1.2×
  (d) township KPI panel  metrics.case_kpis(白塔畈镇, last year) vs hand-written SQL (raw cursor) ≤ 1.3×
  (e) overdue escalation  manage.py escalate_overdue_cases over the 100k database (a copy)    well under 60 s

Sub-commands (run by the main command in subprocesses, each with XIANGZHI_DATA_DIR set):
``generate --cases N``, ``measure --reps R``, ``escalate``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
PY = sys.executable
SEED = 1
TOWNSHIP = "341524111"  # 白塔畈镇
COUNTY = "341524"
SIZES = (10_000, 100_000)
OPEN_PER_VILLAGE = 4


def data_dir(n: int) -> Path:
    return DATA / f"cases{n}"


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


def build(n: int, log) -> dict:
    target = data_dir(n)
    marker = target / "READY.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    log(f"构建 {n} 件事项的数据（一次性，之后复用）…")
    _run([PY, "manage.py", "migrate", "--noinput", "-v0"], target)
    _run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], target)
    t = time.perf_counter()
    info = _last_json(_run([PY, __file__, "generate", "--cases", str(n)], target))
    info["seconds"] = round(time.perf_counter() - t, 1)
    info["built_at"] = time.strftime("%Y-%m-%d %H:%M")
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=1))
    log(f"  完成，用时 {info['seconds']} 秒")
    return info


# =========================================================================================
# In-process parts (Django set up with the data directory of the subprocess)
# =========================================================================================
def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangzhi.settings")
    import django

    django.setup()


TITLES = {
    "dispute": ["邻里排水沟纠纷", "宅基地界址纠纷", "山林权属纠纷", "赡养纠纷", "土地承包纠纷", "务工工资纠纷"],
    "petition": ["征地补偿款问题", "危房改造补助问题", "医疗报销问题", "道路硬化诉求", "确权面积异议"],
    "need": ["饮水管道破裂", "桥面护栏损坏", "独居老人就医困难", "转学手续", "房屋漏雨"],
}
CHANNELS = ["walk_in", "letter", "online", "grid_report", "visit", "hotline"]


def cmd_generate(args) -> dict:
    """Deterministic synthetic cases over the county, written with bulk_create: what the
    services would leave behind in the fields the queue and the KPIs read (no timeline rows:
    neither reads them). The open workload is the same at every size — OPEN_PER_VILLAGE
    open cases per village received in the last 75 days, most of them past their level's
    time limit (work for the escalation job) — and the rest is closed history since 2022,
    so that "10× the cases" means ten times the years of history, as it does in a county
    that keeps using the system."""
    _django()
    import random
    from datetime import datetime, timedelta

    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from xiangzhi.accounts.models import User
    from xiangzhi.cases.config import categories_ensure_defaults
    from xiangzhi.cases.models import Case, Category, Mediation, SkipLevelRecord
    from xiangzhi.core import periods
    from xiangzhi.org.models import Assignment, Region
    from xiangzhi.org.services import regions_import_shipped
    from xiangzhi.residents.synth import ensure_grids

    rng = random.Random(f"cases-bench:{SEED}")
    anchor = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = datetime(2022, 1, 1, tzinfo=periods.TZ)
    regions_import_shipped(actor=None)
    villages = list(
        Region.objects.filter(level="village", code__startswith=COUNTY).order_by("code").values_list("code", flat=True)
    )
    grids = ensure_grids(villages, seed=SEED)
    categories_ensure_defaults(actor=None)
    cats = list(Category.objects.values_list("pk", flat=True))
    townships = sorted({v[:9] for v in villages})
    unusable = make_password(None)
    with transaction.atomic():
        users = [User(username=f"bench_t{t}", full_name="镇干部", area_code=t, password=unusable) for t in townships]
        users += [User(username=f"bench_v{v}", full_name="村书记", area_code=v, password=unusable) for v in villages]
        User.objects.bulk_create(users, batch_size=500)
        by_area = {u.area_code: u.pk for u in User.objects.filter(username__startswith="bench_")}
        Assignment.objects.bulk_create(
            [Assignment(user_id=by_area[t], area_code=t, role="township_admin") for t in townships]
            + [Assignment(user_id=by_area[v], area_code=v, role="village_secretary") for v in villages],
            batch_size=500,
        )
    level_days = {"grid": 3, "village": 7, "township": 15}
    up = {"grid": "village", "village": "township", "township": "township"}
    # The current workload is the same in both sizes (OPEN_PER_VILLAGE open cases in every
    # village, received in the last 75 days); "10× the cases" is 10× the closed history.
    n_open = OPEN_PER_VILLAGE * len(villages)
    history = args.cases - n_open
    hist_span = (anchor - timedelta(days=30) - start).total_seconds()
    cases, med_specs, skip_specs = [], [], []
    for i in range(args.cases):
        current = i >= history
        village = villages[(i - history) // OPEN_PER_VILLAGE] if current else villages[rng.randrange(len(villages))]
        area = rng.choice(grids[village]) if rng.random() < 0.6 else village
        kind = rng.choices(["dispute", "petition", "need"], weights=[5, 2, 3])[0]
        if current:
            received = anchor - timedelta(seconds=rng.uniform(3600, 75 * 86400))
            status = rng.choices(["registered", "accepted", "assigned", "in_progress", "resolved", "unresolved"],
                                 weights=[2, 1, 2, 3, 1, 1])[0]  # fmt: skip
        else:
            received = start + timedelta(seconds=rng.random() * hist_span)
            r = rng.random()
            status = "closed" if r < 0.97 else "not_accepted" if r < 0.99 else "transferred"
        level0 = "grid" if len(area) == 15 else "village"
        c = Case(
            area_code=area, kind=kind, channel=rng.choice(CHANNELS), category_id=rng.choice(cats),
            title=rng.choice(TITLES[kind]), description="合成数据（规模测试）", tracking_code=f"B{i:09d}",
            status=status, level=level0, received_at=received, first_responsible_id=by_area[village],
            contact_name="合成", source="bench",
        )  # fmt: skip
        if kind == "petition":
            c.accept_due_at = periods.deadline(received, 15)
        if status in ("not_accepted", "transferred"):
            c.closed_at, c.resolution = received + timedelta(days=rng.uniform(1, 10)), "不予受理/转办"
            cases.append(c)
            continue
        if status == "registered":
            if kind != "petition":
                c.level_since, c.level_due_at = received, received + timedelta(days=level_days[level0])
            cases.append(c)
            continue
        c.accepted_at = min(anchor, received + timedelta(hours=rng.uniform(0.5, 240 if kind == "petition" else 30)))
        c.accepted_level = level0
        if rng.random() < (0.25 if current else 0.07):
            c.level, c.escalation_count = up[level0], 1
        # 包案: petitions and township-level cases are led by the township, the rest by the village
        township_lead = kind == "petition" or c.level == "township" or (current and rng.random() < 0.5)
        if status != "accepted":
            c.lead_id = by_area[village[:9]] if township_lead else by_area[village]
            c.handler_id = by_area[village[:9]] if c.level == "township" else by_area[village]
            c.responsibility, c.plan = "专人负责", "按期化解"
            c.due_at = c.accepted_at + timedelta(days=60 if kind == "petition" else 15)
        elif kind == "petition":
            c.due_at = c.accepted_at + timedelta(days=60)
        if kind != "petition":
            since = min(anchor, c.accepted_at + timedelta(days=c.escalation_count * 3))
            c.level_since, c.level_due_at = since, since + timedelta(days=level_days[c.level])
            c.yellow_at = since + timedelta(days=level_days[c.level] * 0.7)
        if status in ("resolved", "closed"):
            c.resolved_at = min(anchor, c.accepted_at + timedelta(days=rng.uniform(0.5, 25)))
            c.resolved_level = c.level
        if status == "closed":
            c.closed_at = min(anchor, c.resolved_at + timedelta(hours=rng.uniform(2, 72)))
            c.resolution = "已化解"
            c.satisfaction = rng.choices(["satisfied", "basic", "unsatisfied"], weights=[85, 13, 2])[0]
            c.level_due_at = c.yellow_at = None
            if kind == "dispute" and rng.random() < 0.5:
                med_specs.append((i, c.resolved_at - timedelta(hours=rng.uniform(1, 48)), rng.random() < 0.97))
        if kind == "petition" and rng.random() < 0.002:
            skip_specs.append((i, area, min(anchor, received + timedelta(days=rng.randint(1, 30)))))
        cases.append(c)
    with transaction.atomic():
        Case.objects.bulk_create(cases, batch_size=2000)
        Mediation.objects.bulk_create(
            [
                Mediation(
                    case_id=cases[i].pk, held_at=at, result="success" if ok else "failure", mediator_names="调解员"
                )
                for i, at, ok in med_specs
            ],
            batch_size=2000,
        )
        SkipLevelRecord.objects.bulk_create(
            [
                SkipLevelRecord(case_id=cases[i].pk, area_code=area, occurred_on=at.date(), destination="县信访局")
                for i, area, at in skip_specs
            ]
        )
    with sqlite3.connect(Path(os.environ["XIANGZHI_DATA_DIR"]) / "xiangzhi.sqlite3") as db:
        db.execute("ANALYZE")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "cases": len(cases),
        "mediations": len(med_specs),
        "skip_levels": len(skip_specs),
        "villages": len(villages),
        "grids": sum(len(g) for g in grids.values()),
        "anchor": anchor.isoformat(),
        "in_township": Case.objects.filter(area_code__startswith=TOWNSHIP).count(),
        "open": Case.objects.filter(
            status__in=["registered", "accepted", "assigned", "in_progress", "resolved", "unresolved"]
        ).count(),
    }


# --- the KPI panel by hand ---------------------------------------------------------------
KPI_SQL = """
SELECT
  COUNT(CASE WHEN received_at >= %(s)s AND received_at < %(e)s THEN 1 END),
  COUNT(CASE WHEN accepted_at >= %(s)s AND accepted_at < %(e)s THEN 1 END),
  COUNT(CASE WHEN accepted_at >= %(s)s AND accepted_at < %(e)s AND status = 'closed' AND closed_at < %(t)s THEN 1 END),
  COUNT(CASE WHEN status = 'closed' AND closed_at >= %(s)s AND closed_at < %(e)s THEN 1 END),
  COUNT(CASE WHEN status = 'closed' AND closed_at >= %(s)s AND closed_at < %(e)s
              AND (due_at IS NULL OR closed_at <= due_at) THEN 1 END),
  COUNT(CASE WHEN status IN ('registered','accepted','assigned','in_progress','resolved','unresolved')
              AND due_at < %(t)s AND received_at < %(e)s THEN 1 END),
  COUNT(CASE WHEN status = 'closed' AND closed_at >= %(s)s AND closed_at < %(e)s AND escalation_count = 0
              AND reopen_count = 0 AND resolved_level = accepted_level THEN 1 END),
  AVG(CASE WHEN status = 'closed' AND closed_at >= %(s)s AND closed_at < %(e)s
           THEN julianday(closed_at) - julianday(received_at) END)
FROM cases_case
WHERE area_code >= %(lo)s AND area_code < %(hi)s
"""
MED_SQL = """
SELECT COUNT(*), COUNT(CASE WHEN m.result = 'success' THEN 1 END)
FROM cases_mediation m JOIN cases_case c ON c.id = m.case_id
WHERE c.area_code >= %(lo)s AND c.area_code < %(hi)s AND m.held_at >= %(s)s AND m.held_at < %(e)s
"""
SKIP_SQL = """
SELECT COUNT(*) FROM cases_skiplevelrecord
WHERE area_code >= %(lo)s AND area_code < %(hi)s AND occurred_on >= %(ds)s AND occurred_on < %(de)s
"""


def kpis_by_hand(area: str, period, now) -> dict:
    """The numbers of metrics.case_kpis for one area and period, straight from SQL."""
    from decimal import ROUND_HALF_UP, Decimal

    from django.db import connection

    from xiangzhi.cases.metrics import rate

    ops = connection.ops
    as_of = min(now, period.end_dt)
    p = {
        "s": ops.adapt_datetimefield_value(period.start_dt),
        "e": ops.adapt_datetimefield_value(period.end_dt),
        "t": ops.adapt_datetimefield_value(as_of),
        "lo": area,
        "hi": area[:-1] + chr(ord(area[-1]) + 1),
        "ds": period.start.isoformat(),
        "de": period.end.isoformat(),
    }
    with connection.cursor() as cur:
        cur.execute(KPI_SQL, p)
        registered, accepted, acc_closed, closed, on_time, overdue, first, avg = cur.fetchone()
        cur.execute(MED_SQL, p)
        n_med, ok_med = cur.fetchone()
        cur.execute(SKIP_SQL, p)
        (skips,) = cur.fetchone()
    return {
        "registered": registered,
        "accepted": accepted,
        "accepted_closed": acc_closed,
        "closure_rate": rate(acc_closed, accepted),
        "closed": closed,
        "closed_on_time": on_time,
        "open_overdue": overdue,
        "on_time_rate": rate(on_time, closed + overdue),
        "first_time": first,
        "first_time_rate": rate(first, closed),
        "mediations": n_med,
        "mediations_successful": ok_med,
        "mediation_success_rate": rate(ok_med, n_med),
        "skip_level_count": skips,
        "avg_days_to_close": Decimal(avg).quantize(Decimal("0.1"), ROUND_HALF_UP) if avg is not None else None,
    }


def cmd_measure(args) -> dict:
    _django()
    from django.db import connection, reset_queries
    from django.test.utils import override_settings
    from django.utils import timezone

    from benchmarks.measure import interleaved, logged_in_client
    from xiangzhi.accounts.models import User
    from xiangzhi.cases import metrics
    from xiangzhi.cases.models import Case
    from xiangzhi.core import periods

    # the township admin of 白塔畈镇 the generator made: lead of its petitions (包案)
    user = User.objects.get(username=f"bench_t{TOWNSHIP}")
    client = logged_in_client(user)
    now = timezone.now()
    last_year = periods.year(now.astimezone(periods.TZ).year - 1)

    def get(url, params=None):
        response = client.get(url, params or {})
        if response.status_code != 200:
            raise SystemExit(f"{url} {params} → HTTP {response.status_code}")
        return response

    with override_settings(ROOT_URLCONF="benchmarks.cases_bare"):
        from benchmarks.cases_bare import bare_rows

        def codes(response) -> list[str]:
            seen = []
            for code in re.findall(r"B\d{9}", response.content.decode()):
                if code not in seen:
                    seen.append(code)
            return seen

        check = {
            "same_rows_queue": codes(get("/cases/")) == [c.tracking_code for c in bare_rows(user, "todo")],
            "same_rows_all": codes(get("/cases/", {"tab": "all"})) == [c.tracking_code for c in bare_rows(user, "all")],
            # page 3 of 全部 crosses from the open cases into the history (48 open cases in 白塔畈镇)
            "same_rows_all_p3": codes(get("/cases/", {"tab": "all", "page": 3}))
            == [c.tracking_code for c in bare_rows(user, "all", 20, 40)]
            == [c.tracking_code for c in bare_rows(user, "all", 60)[40:]],
            "queue_rows": len(bare_rows(user, "todo")),
        }
        pages = interleaved(
            {
                "queue_page": lambda: get("/cases/"),
                "queue_bare": lambda: get("/bench/cases/bare/", {"tab": "todo"}),
                "list_page": lambda: get("/cases/", {"tab": "all"}),
                "list_bare": lambda: get("/bench/cases/bare/", {"tab": "all"}),
                "p3_page": lambda: get("/cases/", {"tab": "all", "page": 3}),
                "p3_bare": lambda: get("/bench/cases/bare/", {"tab": "all", "page": 3}),
            },
            args.reps,
        )
    ours = metrics.case_kpis(TOWNSHIP, last_year, now=now).as_dict()
    hand = kpis_by_hand(TOWNSHIP, last_year, now)
    check["same_kpis"] = ours == hand
    if ours != hand:
        check["kpi_diff"] = {k: (str(ours[k]), str(hand[k])) for k in ours if ours[k] != hand[k]}
    kpi = interleaved(
        {
            "kpi_ours": lambda: metrics.case_kpis(TOWNSHIP, last_year, now=now),
            "kpi_hand": lambda: kpis_by_hand(TOWNSHIP, last_year, now),
        },
        args.reps * 3,
    )
    reset_queries()
    return {
        "cases": Case.objects.count(),
        "in_township": Case.objects.filter(area_code__startswith=TOWNSHIP).count(),
        "kpi_year": last_year.label,
        "kpi": {k: str(v) for k, v in ours.items()},
        "sqlite": connection.Database.sqlite_version if connection.vendor == "sqlite" else connection.vendor,
        **pages,
        **kpi,
        **check,
    }


def cmd_escalate(args) -> dict:
    """Time ``manage.py escalate_overdue_cases`` twice (the second finds nothing more)."""
    _django()
    from xiangzhi.cases.models import Case

    before = Case.objects.filter(escalation_count__gt=0).count()
    runs = []
    for _ in range(2):
        t = time.perf_counter()
        out = subprocess.run([PY, "manage.py", "escalate_overdue_cases"], cwd=ROOT, env=dict(os.environ), text=True,
                             capture_output=True, check=True).stdout  # fmt: skip
        runs.append({"seconds": round(time.perf_counter() - t, 2), "output": out.strip()})
    t = time.perf_counter()
    subprocess.run([PY, "manage.py", "check", "-v0"], cwd=ROOT, env=dict(os.environ), check=True)
    startup = time.perf_counter() - t
    return {
        "cases": Case.objects.count(),
        "escalated_cases_before": before,
        "escalated_cases_after": Case.objects.filter(escalation_count__gt=0).count(),
        "runs": runs,
        "django_startup_seconds": round(startup, 2),
    }


# =========================================================================================
# The table
# =========================================================================================
def _w(text) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _pad(text, width: int) -> str:
    return str(text) + " " * (width - _w(text))


def verdict(ok) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def main_run(args):
    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    from benchmarks.run import machine

    started = time.perf_counter()
    env = machine()
    small, large = SIZES
    built = {n: build(n, log) for n in SIZES}
    results: dict = {"machine": env, "built": built}
    for n in SIZES:
        # data built by an older revision: bring the schema (indexes) and static files up to date
        _run([PY, "manage.py", "migrate", "--noinput", "-v0"], data_dir(n))
        _run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], data_dir(n))
        log(f"计时：{n} 件 …")
        results[f"measure_{n}"] = _last_json(_run([PY, __file__, "measure", "--reps", str(args.reps)], data_dir(n)))
    if "escalate" not in args.skip:
        log("超期自动上报（100k 副本）…")
        with tempfile.TemporaryDirectory(prefix="cases-escalate-", dir=DATA) as tmp:
            copy = Path(tmp)
            src = data_dir(large)
            for name in ("keys", "static"):
                shutil.copytree(src / name, copy / name)
            with sqlite3.connect(src / "xiangzhi.sqlite3") as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            shutil.copy2(src / "xiangzhi.sqlite3", copy / "xiangzhi.sqlite3")
            results["escalate"] = _last_json(_run([PY, __file__, "escalate"], copy))

    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    S, L = results[f"measure_{small}"], results[f"measure_{large}"]
    rows = []
    for key, label in (("queue", "(a) 工作台 GET /cases/（我的待办）vs 同查询裸视图"),
                       ("list", "(b) 事项列表 GET /cases/?tab=all vs 同查询裸视图"),
                       ("p3", "(b) 事项列表第 3 页（在办→历史）vs 同查询裸视图")):  # fmt: skip
        for n, m in ((large, L), (small, S)):
            ratio = m[f"{key}_page"] / m[f"{key}_bare"]
            rows.append((f"{label}（{n // 1000}k）", ms(m[f"{key}_page"]), ms(m[f"{key}_bare"]), f"{ratio:.2f}×",
                         "≤ 1.5×", verdict(ratio <= 1.5)))  # fmt: skip
    for key, label, goal in (("queue_page", "(c) 工作台", 1.2), ("list_page", "(c) 事项列表", 1.2),
                             ("p3_page", "(c) 事项列表第 3 页", 1.2),
                             ("queue_bare", "    裸视图（工作台，参照）", None),
                             ("list_bare", "    裸视图（列表，参照）", None),
                             ("p3_bare", "    裸视图（列表第 3 页，参照）", None)):  # fmt: skip
        ratio = L[key] / S[key]
        rows.append((f"{label} 100k vs 10k 件", ms(L[key]), ms(S[key]), f"{ratio:.2f}×",
                     f"≤ {goal}×" if goal else "", verdict(ratio <= goal) if goal else "—"))  # fmt: skip
    for n, m in ((large, L), (small, S)):
        ratio = m["kpi_ours"] / m["kpi_hand"]
        rows.append((f"(d) 乡镇指标 case_kpis（{m['kpi_year']}，{n // 1000}k）vs 手写 SQL", ms(m["kpi_ours"]),
                     ms(m["kpi_hand"]), f"{ratio:.2f}×", "≤ 1.3×", verdict(ratio <= 1.3 and m["same_kpis"])))  # fmt: skip
    esc = results.get("escalate")
    if esc:
        first, second = esc["runs"]
        rows.append((f"(e) 超期自动上报命令（{esc['cases'] // 1000}k 件）首次", f"{first['seconds']:.1f} 秒",
                     first["output"], "", "< 60 秒", verdict(first["seconds"] < 60)))  # fmt: skip
        rows.append(("    再次运行（幂等，无事可做）", f"{second['seconds']:.1f} 秒", second["output"],
                     f"启动 {esc['django_startup_seconds']:.1f} 秒", "< 60 秒", verdict(second["seconds"] < 60)))  # fmt: skip

    header = ("测量项", "本系统", "基线", "比值", "目标", "结果")
    widths = [max(_w(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(f"机器：{env}")
    for n, info in built.items():
        m = results[f"measure_{n}"]
        print(f"数据：{info['cases']} 件（全县 {info['villages']} 个村、{info['grids']} 个网格；白塔畈镇 {m['in_township']} 件；"
              f"在办 {info['open']} 件；调解 {info['mediations']} 次；生成用时 {info['seconds']} 秒）")  # fmt: skip
    for n in SIZES:
        m = results[f"measure_{n}"]
        print(f"核对（{n // 1000}k）：同样的行 工作台={m['same_rows_queue']} 列表={m['same_rows_all']}"
              f" 列表第 3 页={m['same_rows_all_p3']}；"
              f"指标与手写 SQL 相同={m['same_kpis']}")  # fmt: skip
    print()
    print(" | ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)))
    print(
        f"\n总用时 {time.perf_counter() - started:.0f} 秒；页面为 {args.reps} 次交替测量的中位数，指标为 {args.reps * 3} 次。"
    )
    results["table"] = rows
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd")
    p = sub.add_parser("generate")
    p.add_argument("--cases", type=int, required=True)
    p = sub.add_parser("measure")
    p.add_argument("--reps", type=int, default=30)
    sub.add_parser("escalate")
    parser.add_argument("--reps", type=int, default=30, help="页面计时重复次数（取中位数）")
    parser.add_argument("--skip", default="", help="逗号分隔：escalate")
    parser.add_argument("--json", default=str(DATA / "cases-results.json"))
    args = parser.parse_args()
    if args.cmd == "generate":
        print(json.dumps(cmd_generate(args), ensure_ascii=False))
    elif args.cmd == "measure":
        print(json.dumps(cmd_measure(args), ensure_ascii=False, default=str))
    elif args.cmd == "escalate":
        print(json.dumps(cmd_escalate(args), ensure_ascii=False))
    else:
        sys.path.insert(0, str(ROOT))
        main_run(args)


if __name__ == "__main__":
    main()
