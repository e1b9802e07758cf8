#!/usr/bin/env python
"""Benchmarks (not tests): ``make bench`` or ``.venv/bin/python benchmarks/run.py``.

Builds two synthetic counties with ``manage.py synth`` (20k and 200k households, each in its
own SQLite database under benchmarks/data/, kept between runs) and prints one table of
ratios measured in this run:

  (a) registry list page vs a bare Django view running the same query      goal ≤ 1.5×
  (b) pinyin-initials search page vs the bare view                           goal ≤ 1.5×
  (c) the same pages at 200k vs 20k households                               goal ≤ 1.2×
  (d) Excel import of a 10k-resident file vs raw bulk_create of the rows     goal ≥ 0.3×
  (e) peak memory of a 100k-row roster export above the process baseline     goal < 50 MB,
      and the same for 10k rows (constant: the 100k figure ≈ the 10k figure)

Every measurement runs in a subprocess (benchmarks/measure.py) against one database; pages
are timed interleaved with their baseline, medians over --reps repetitions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
PY = sys.executable
SEED = 1


def data_dir(households: int) -> Path:
    return DATA / f"h{households}"


def _env(households: int) -> dict:
    env = dict(os.environ)
    env["XIANGZHI_DATA_DIR"] = str(data_dir(households))
    env["DJANGO_SETTINGS_MODULE"] = "xiangzhi.settings"
    env.pop("DATABASE_URL", None)  # always the data dir's own SQLite file
    env.pop("XIANGZHI_FIELD_KEY", None)  # each data dir has its own key file
    return env


def _run(args, households: int, *, capture=True) -> str:
    proc = subprocess.run(args, cwd=ROOT, env=_env(households), text=True, capture_output=capture, check=False)
    if proc.returncode:
        sys.stderr.write((proc.stdout or "") + (proc.stderr or ""))
        raise SystemExit(f"failed: {' '.join(map(str, args))}")
    return proc.stdout or ""


def build(households: int, log) -> dict:
    """Create the data dir once (migrate, static files, synth); reuse it afterwards."""
    target = data_dir(households)
    marker = target / "READY.json"
    if marker.exists():
        return json.loads(marker.read_text())
    if target.exists():
        for p in target.glob("xiangzhi.sqlite3*"):
            p.unlink()
    target.mkdir(parents=True, exist_ok=True)
    log(f"构建 {households} 户的数据（一次性，之后复用）…")
    _run([PY, "manage.py", "migrate", "--noinput", "-v0"], households)
    _run([PY, "manage.py", "collectstatic", "--noinput", "-v0"], households)
    t = time.perf_counter()
    cpu = _children_cpu()
    out = _run([PY, "manage.py", "synth", "--households", str(households), "--seed", str(SEED)], households)
    info = {
        "households": households,
        "seed": SEED,
        "synth_seconds": round(time.perf_counter() - t, 1),
        "synth_cpu_seconds": round(_children_cpu() - cpu, 1),
        "load_average": round(os.getloadavg()[0], 1),
        "synth_output": out.strip().splitlines()[-1:],
        "built_at": time.strftime("%Y-%m-%d %H:%M"),
    }
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=1))
    log(f"  完成，用时 {info['synth_seconds']} 秒")
    return info


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(households: int, *args) -> dict | None:
    """One measurement in a subprocess; None (and the error on stderr) if it failed, so that
    the other rows are still measured and printed."""
    try:
        out = _run([PY, str(ROOT / "benchmarks" / "measure.py"), *map(str, args)], households)
    except SystemExit as exc:
        print(f"测量失败：{exc}", file=sys.stderr)
        return None
    return json.loads(out.strip().splitlines()[-1])


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0
    return (
        f"{os.cpu_count()} cores {cpu}, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"load average at start {load:.1f}"
    )


def revision() -> str:
    """The commit measured (and whether the working tree had uncommitted changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "xiangzhi"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return "?"
    return head + ("（工作区有未提交的改动）" if dirty else "")


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "FAIL")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=20_000, help="户数（小规模）")
    parser.add_argument("--large", type=int, default=200_000, help="户数（大规模）")
    parser.add_argument("--reps", type=int, default=30, help="页面计时重复次数（取中位数）")
    parser.add_argument("--import-reps", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--skip", default="", help="逗号分隔：pages,import,export")
    parser.add_argument("--json", default=str(DATA / "results.json"), help="结果另存为 JSON")
    args = parser.parse_args()
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    env = machine()
    built = {n: build(n, log) for n in (args.small, args.large)}
    results: dict = {"machine": env, "revision": revision(), "built": built}
    if "pages" not in skip:
        log(f"页面计时：{args.large} 户与 {args.small} 户交替 …")
        pages = measure(args.large, "pages", "--reps", args.reps, "--other", data_dir(args.small))
        if pages:
            results[f"pages_{args.large}"], results[f"pages_{args.small}"] = pages["main"], pages["other"]
    if "import" not in skip:
        log("导入计时 …")
        results["import"] = measure(args.large, "import", "--reps", args.import_reps)
    if "export" not in skip:
        log("导出内存 …")
        results["export_small"] = measure(args.large, "export", "--rows", args.export_rows // 10)
        results["export"] = measure(args.large, "export", "--rows", args.export_rows)
        results["export_small_heap"] = measure(args.large, "export", "--rows", args.export_rows // 10, "--trace")
        results["export_heap"] = measure(args.large, "export", "--rows", args.export_rows, "--trace")

    rows = []  # (label, measured, baseline, ratio, goal, verdict)
    ms = lambda s: f"{s * 1000:.1f} ms"  # noqa: E731
    small, large = results.get(f"pages_{args.small}"), results.get(f"pages_{args.large}")
    if large:
        for key, label in (
            ("list", "(a) 户籍列表页 vs 同查询裸视图"),
            ("search", "(b) 拼音首字母检索页 vs 同查询裸视图"),
        ):
            ratio = large[f"{key}_page"] / large[f"{key}_bare"]
            rows.append(
                (
                    f"{label}（{args.large} 户）",
                    ms(large[f"{key}_page"]),
                    ms(large[f"{key}_bare"]),
                    f"{ratio:.2f}×",
                    "≤ 1.5×",
                    verdict(ratio <= 1.5),
                )
            )
    if small:
        for key, label in (("list", "    同上（列表）"), ("search", "    同上（检索）")):
            ratio = small[f"{key}_page"] / small[f"{key}_bare"]
            rows.append(
                (
                    f"{label}（{args.small} 户）",
                    ms(small[f"{key}_page"]),
                    ms(small[f"{key}_bare"]),
                    f"{ratio:.2f}×",
                    "≤ 1.5×",
                    verdict(ratio <= 1.5),
                )
            )
    if small and large:
        for key, label in (
            ("list_page", "(c) 列表页"),
            ("search_page", "(c) 检索页"),
            ("list_bare", "    裸视图（列表，参照）"),
            ("search_bare", "    裸视图（检索，参照）"),
        ):
            ratio = large[key] / small[key]
            goal = "≤ 1.2×" if key.endswith("page") else ""
            rows.append(
                (
                    f"{label} {args.large} 户 vs {args.small} 户",
                    ms(large[key]),
                    ms(small[key]),
                    f"{ratio:.2f}×",
                    goal,
                    verdict(ratio <= 1.2) if goal else "—",
                )
            )
    imp = results.get("import")
    if imp:
        ratio = imp["import_rate"] / imp["raw_rate"]
        rows.append(
            (
                f"(d) Excel 导入 {imp['residents']} 人 vs 裸 bulk_create",
                f"{imp['import_rate']:.0f} 人/秒",
                f"{imp['raw_rate']:.0f} 人/秒",
                f"{ratio:.2f}×",
                "≥ 0.3×",
                verdict(ratio >= 0.3),
            )
        )
        ratio_b = imp["bulk_rate"] / imp["raw_rate"]
        rows.append(
            (
                "    其中写入路径 bulk.create_households（加密+拼音+检索键）",
                f"{imp['bulk_rate']:.0f} 人/秒",
                f"{imp['raw_rate']:.0f} 人/秒",
                f"{ratio_b:.2f}×",
                "",
                "—",
            )
        )
    else:
        rows.append(("(d) Excel 导入 vs 裸 bulk_create", "已跳过", "", "", "≥ 0.3×", "—"))
    exp, exp_small = results.get("export"), results.get("export_small")
    heap, heap_small = results.get("export_heap"), results.get("export_small_heap")
    for label, e, goal in (("(e) 导出", exp, "< 50 MB"), ("    导出", exp_small, "")):
        if e:
            rows.append(
                (
                    f"{label} {e['rows']} 行花名册：进程峰值内存（RSS）增量",
                    f"{e['delta_mb']:.1f} MB",
                    f"基线 {e['base_rss_mb']:.0f} MB",
                    f"{e['seconds']:.1f} 秒",
                    goal,
                    verdict(e["delta_mb"] < 50) if goal else "—",
                )
            )
    if heap and heap_small:
        ratio = heap["py_peak_mb"] / heap_small["py_peak_mb"]
        rows.append(
            (
                f"(e) Python 堆峰值（tracemalloc）{heap['rows']} 行 vs {heap_small['rows']} 行",
                f"{heap['py_peak_mb']:.1f} MB",
                f"{heap_small['py_peak_mb']:.1f} MB",
                f"{ratio:.2f}×",
                "恒定 ≤ 1.5×",
                verdict(ratio <= 1.5),
            )
        )

    header = ("测量项", "本系统", "基线", "比值/用时", "目标", "结果")
    widths = [max(_w(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    print(f"机器：{env}")
    print(f"代码：{revision()}")
    for n, info in built.items():
        print(
            f"数据：{n} 户（synth --seed {info['seed']}，生成用时 {info['synth_seconds']} 秒"
            + (f"，CPU {info['synth_cpu_seconds']} 秒" if "synth_cpu_seconds" in info else "")
            + "）"
            + (f"，{results[f'pages_{n}']['residents']} 人" if results.get(f"pages_{n}") else "")
        )
    print()
    print(" | ".join(_pad(h, w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)))
    print(
        f"\n总用时 {time.perf_counter() - started:.0f} 秒；页面为两个规模、页面与裸视图 {args.reps} 轮交替测量的中位数。"
    )
    results["table"] = rows
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))


def _w(text: str) -> int:
    """Display width: CJK characters take two columns."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _w(text))


if __name__ == "__main__":
    main()
