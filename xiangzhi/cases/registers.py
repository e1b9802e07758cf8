"""Registers (台账) of the case engine.

* ``CASE_REGISTER``: the case register — one row per case, filtered like the work queue
  (``selectors.case_list`` / ``CaseFilters``) and limited to the user's
  ``cases.export_case`` scope, in register order (received time, id). Rows are plain dicts
  streamed from the database (``values().iterator()``), so the .xlsx export runs in
  constant memory whatever its size. No contact phone is exported; phone numbers and ID
  numbers typed into the free-text 事项 column are masked (``scrub``).
* ``monthly_table``: the monthly 矛盾纠纷排查化解情况表 of a township — one row per village
  from ``metrics.village_table`` plus a total row whose rates are recomputed from the sums
  (never averaged), with its printable HTML page and .xlsx (title, 填报单位/填报日期,
  signature lines).

Views: ``views_registers.py``. Both exports are audited (``cases.export``) by the view.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.db.models import Q
from django.utils import timezone

from xiangzhi.core import periods
from xiangzhi.core.masking import mask_id_number, mask_phone
from xiangzhi.core.registers import Column, Register, XlsxStreamWriter, _sheet_name, safe_cell
from xiangzhi.core.scoping import scopes_for

from . import metrics, selectors
from .choices import OPEN_STATUSES, Channel, Kind, Level, Satisfaction, Status
from .models import Case
from .selectors import CaseFilters

EXPORT_PERM = "cases.export_case"
HTML_LIMIT = 500  # rows on the printable page; the .xlsx has them all

KIND_LABELS = dict(Kind.choices)
CHANNEL_LABELS = dict(Channel.choices)
STATUS_LABELS = dict(Status.choices)
LEVEL_LABELS = {code: f"{label}级" for code, label in Level.choices}
SATISFACTION_LABELS = dict(Satisfaction.choices)
STATUS_FILTER_LABELS = {"open": "全部在办", "overdue": "已超期", **STATUS_LABELS}  # the queue's status filter

ON_TIME, LATE, OPEN_LATE = "按期", "超期", "超期未办结"

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")


def scrub(text: str) -> str:
    """Free text as it may leave the system in a register: mobile numbers and ID numbers
    typed into it are masked (``138****5678``, ``341524********123X``)."""
    if not text:
        return ""
    if any(c.isdigit() for c in text):
        text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)
        text = _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)
    return text


def export_scope_q(user) -> Q | None:
    """The areas where ``user`` may export cases, as one OR of prefix filters (None: none)."""
    prefixes, _ = scopes_for(user, EXPORT_PERM)
    if not prefixes:
        return None
    q = Q()
    for p in prefixes:
        q |= Q(area_code__startswith=p)
    return q


# --- the case register ----------------------------------------------------------------------
FIELDS = (
    "id", "tracking_code", "kind", "channel", "category__name", "category__parent__name", "title", "area_code",
    "received_at", "status", "level", "lead__full_name", "lead__username", "handler__full_name",
    "handler__username", "due_at", "closed_at", "satisfaction",
)  # fmt: skip


def on_time(row: dict, now: datetime) -> str:
    """是否按期, as the on-time KPI counts it: a closed case is on time when it closed by its
    办结期限 (or has none); an open case past its 办结期限 is late already ("open overdue
    counts as late"); anything else (open within its time, not accepted, transferred) is
    blank."""
    status, due = row["status"], row["due_at"]
    if status == Status.CLOSED:
        return ON_TIME if due is None or row["closed_at"] <= due else LATE
    if status in OPEN_STATUSES and due is not None and due < now:
        return OPEN_LATE
    return ""


def _local(value):
    return timezone.localtime(value, periods.TZ) if value is not None else None


def _person(row: dict, prefix: str) -> str:
    return row[f"{prefix}__full_name"] or row[f"{prefix}__username"] or ""


def _category(row: dict) -> str:
    name, parent = row["category__name"], row["category__parent__name"]
    if not name:
        return ""
    return f"{parent}/{name}" if parent else name


def _area(row: dict, ctx) -> str:
    return (ctx or {}).get("names", {}).get(row["area_code"], row["area_code"])


CASE_REGISTER = Register(
    title="矛盾纠纷/信访事项台账",
    sheet_title="事项台账",
    columns=[
        Column("seq", "序号", accessor="#", width=6),
        Column("tracking_code", "查询码", accessor="tracking_code", width=13, text=True),
        Column("kind", "类型", accessor=lambda r, ctx: KIND_LABELS.get(r["kind"], r["kind"]), width=9),
        Column("channel", "来源", accessor=lambda r, ctx: CHANNEL_LABELS.get(r["channel"], r["channel"]), width=9),
        Column("category", "分类", accessor=lambda r, ctx: _category(r), width=12),
        Column("title", "事项", accessor=lambda r, ctx: scrub(r["title"]), width=30),
        Column("area", "属地", accessor=_area, width=18),
        Column("received_at", "收到时间", accessor=lambda r, ctx: _local(r["received_at"]), width=17),
        Column("status", "状态", accessor=lambda r, ctx: STATUS_LABELS.get(r["status"], r["status"]), width=9),
        Column("level", "层级", accessor=lambda r, ctx: LEVEL_LABELS.get(r["level"], r["level"]), width=7),
        Column("lead", "包案领导", accessor=lambda r, ctx: _person(r, "lead"), width=10),
        Column("handler", "承办人", accessor=lambda r, ctx: _person(r, "handler"), width=10),
        Column("due_at", "办结期限", accessor=lambda r, ctx: _local(r["due_at"]), width=17),
        Column("closed_at", "办结时间", accessor=lambda r, ctx: _local(r["closed_at"]), width=17),
        Column("on_time", "是否按期", accessor=lambda r, ctx: on_time(r, ctx["now"]), width=10),
        Column(
            "satisfaction", "满意度", accessor=lambda r, ctx: SATISFACTION_LABELS.get(r["satisfaction"], ""), width=9
        ),
    ],
)  # fmt: skip


def register_queryset(user, filters: CaseFilters | None = None, *, now: datetime | None = None):
    """The register's cases: the queue's filters over the user's view scope, cut to the
    export scope, in register order (received time, id)."""
    scope = export_scope_q(user)
    if scope is None:
        return Case.objects.none()
    qs = selectors.case_list(user=user, filters=filters, now=now).filter(scope)
    return qs.order_by("received_at", "id")


def register_rows(user, filters: CaseFilters | None = None, *, now: datetime | None = None, limit: int | None = None):
    """Plain dict rows (no model instances), streamed from the database."""
    qs = register_queryset(user, filters, now=now).values(*FIELDS)
    if limit is not None:
        return list(qs[:limit])
    return qs.iterator(chunk_size=2000)


def register_context(user, *, now: datetime | None = None) -> dict:
    """Names of the villages and grids in the user's export scope (one query) and the
    moment "overdue" is judged at."""
    from xiangzhi.org.models import Region

    prefixes, _ = scopes_for(user, EXPORT_PERM)
    names: dict[str, str] = {}
    if prefixes:
        cond = Q()
        for p in prefixes:
            cond |= Q(code__startswith=p[:12])
        rows = Region.objects.filter(cond, level__in=("village", "grid")).values_list("code", "name", "level")
        villages = {code: name for code, name, level in rows if level == "village"}
        for code, name, level in rows:
            names[code] = name if level == "village" else f"{villages.get(code[:12], code[:12])} · {name}"
    return {"names": names, "now": now or timezone.now()}


def register_title(user, filters: CaseFilters) -> tuple[str, str]:
    from xiangzhi.org.selectors import area_name

    where = area_name(filters.area_code) if filters.area_code else ""
    title = f"{where.replace(' ', '')}{CASE_REGISTER.title}" if where else CASE_REGISTER.title
    parts = [f"导出时间：{timezone.localtime(timezone.now(), periods.TZ):%Y-%m-%d %H:%M}",
             f"导出人：{user.display_name}"]  # fmt: skip
    parts.extend(filter_summary(filters))
    parts.append("不含联系电话；事项中的电话、身份证号已脱敏")
    return title, "　".join(parts)


def filter_summary(filters: CaseFilters) -> list[str]:
    out = []
    if filters.kind:
        out.append(f"类型：{KIND_LABELS.get(filters.kind, filters.kind)}")
    if filters.level:
        out.append(f"层级：{LEVEL_LABELS.get(filters.level, filters.level)}")
    if filters.status:
        out.append(f"状态：{STATUS_FILTER_LABELS.get(filters.status, filters.status)}")
    if filters.received_from or filters.received_to:
        a = filters.received_from.isoformat() if filters.received_from else "…"
        b = filters.received_to.isoformat() if filters.received_to else "…"
        out.append(f"收到时间：{a} 至 {b}")
    if filters.q:
        out.append(f"检索：{filters.q}")
    return out


# --- 矛盾纠纷排查化解情况表 ---------------------------------------------------------------------
MONTHLY_COLUMNS = [
    ("name", "村（社区）", 14),
    ("registered", "排查纠纷数", 11),
    ("resolved", "化解数", 9),
    ("resolution_rate", "化解率", 10),
    ("mediations", "调解次数", 9),
    ("mediations_successful", "调解成功数", 11),
    ("mediation_success_rate", "调解成功率", 11),
    ("open", "在办", 8),
    ("overdue", "超期", 8),
]
MONTHLY_NOTE = (
    "说明：排查纠纷数＝本月登记的矛盾纠纷；化解数＝本月化解的矛盾纠纷（含以前月份登记的）；化解率＝化解数÷排查纠纷数；"
    "调解次数、调解成功数＝本月举行的调解；在办＝月末前登记、目前尚未办结的；超期＝其中已过办结期限的（截至月末或当前）。"
    "比率分母为 0 时记“—”。"
)
SIGNATURES = ("填表人：", "审核人：", "负责人（签字）：")


def monthly_townships(user) -> list[tuple[str, str]]:
    """Townships wholly inside the user's export scope, [(code, name)]: the monthly table is
    a township's report (a village secretary has none)."""
    from xiangzhi.org.models import Region

    prefixes, _ = scopes_for(user, EXPORT_PERM)
    wide = [p for p in prefixes if len(p) <= 9]
    if not wide:
        return []
    cond = Q()
    for p in wide:
        cond |= Q(code__startswith=p)
    rows = Region.objects.filter(cond, level="township", is_active=True).order_by("code").values_list("code", "name")
    return list(rows)


@dataclass
class MonthlyTable:
    township_code: str
    township_name: str
    period: periods.Period
    rows: list[dict]
    total: dict
    filled_on: date

    @property
    def title(self) -> str:
        return f"{self.township_name}{self.period.label}矛盾纠纷排查化解情况表"

    @property
    def unit(self) -> str:
        return self.township_name

    @property
    def filled_label(self) -> str:
        d = self.filled_on
        return f"{d.year}年{d.month}月{d.day}日"


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def monthly_table(township_code: str, period: periods.Period, *, now: datetime | None = None) -> MonthlyTable:
    from xiangzhi.org.models import Region

    rows = metrics.village_table(township_code, period, now=now)
    keys = ("registered", "resolved", "closed", "open", "overdue", "mediations", "mediations_successful")
    total = {k: sum(r[k] for r in rows) for k in keys}
    total["name"] = "合计"
    total["resolution_rate"] = metrics.rate(total["resolved"], total["registered"])
    total["mediation_success_rate"] = metrics.rate(total["mediations_successful"], total["mediations"])
    name = Region.objects.filter(code=township_code).values_list("name", flat=True).first() or township_code
    today = timezone.localtime(now or timezone.now(), periods.TZ).date()
    return MonthlyTable(township_code, name, period, rows, total, today)


def monthly_cells(row: dict) -> list:
    out = []
    for key, _, _ in MONTHLY_COLUMNS:
        value = row[key]
        out.append(percent(value) if key.endswith("_rate") else value)
    return out


def write_monthly_xlsx(path, table: MonthlyTable) -> int:
    """The table as the township hands it in: title, 填报单位/填报日期, header, one row per
    village, the total row, the note and the signature line."""
    n = len(MONTHLY_COLUMNS)
    with XlsxStreamWriter(path, sheet_title=_sheet_name(f"{table.period.label}纠纷排查化解")) as xw:
        xw.start(widths=[w for _, _, w in MONTHLY_COLUMNS], freeze_row=3, print_title_row=3)
        xw.row([safe_cell(table.title)], style=XlsxStreamWriter.TITLE, height=26)
        xw.merge(1, n)
        xw.row([safe_cell(f"填报单位（盖章）：{table.unit}"), None, None, None, None, None,
                safe_cell(f"填报日期：{table.filled_label}")])  # fmt: skip
        xw.row([safe_cell(h) for _, h, _ in MONTHLY_COLUMNS], style=XlsxStreamWriter.BOLD)
        for row in table.rows:
            xw.row([safe_cell(v) for v in monthly_cells(row)])
        xw.row([safe_cell(v) for v in monthly_cells(table.total)], style=XlsxStreamWriter.BOLD)
        xw.row([])
        xw.row([safe_cell(MONTHLY_NOTE)])
        xw.merge(xw.row_number, n)
        xw.row([])
        xw.row([safe_cell(SIGNATURES[0]), None, None, safe_cell(SIGNATURES[1]), None, None, safe_cell(SIGNATURES[2])])
    return len(table.rows)


def monthly_export_file(table: MonthlyTable) -> Path:
    import os
    import tempfile

    from django.conf import settings

    export_dir = Path(settings.EXPORT_DIR)
    export_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="export-", suffix=".xlsx", dir=export_dir)
    os.close(fd)
    try:
        write_monthly_xlsx(name, table)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def iter_html_rows(rows, ctx) -> Iterator[list[str]]:
    return CASE_REGISTER.html_rows(rows, ctx)
