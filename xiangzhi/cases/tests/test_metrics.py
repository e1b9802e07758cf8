"""KPIs against a hand-computed fixture (numbers worked out on paper in the comments)."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from xiangzhi.cases import metrics
from xiangzhi.cases.models import Case, Mediation, SkipLevelRecord
from xiangzhi.core import periods

pytestmark = pytest.mark.django_db

TZ = periods.TZ
MARCH = periods.month(2025, 3)
NOW = datetime(2025, 4, 10, 12, 0, tzinfo=TZ)


def dt(day, month=3, hour=10):
    return datetime(2025, month, day, hour, 0, tzinfo=TZ)


_n = [0]


def mk(area, **kw):
    _n[0] += 1
    defaults = dict(kind="dispute", channel="walk_in", title="t", description="d", tracking_code=f"T{_n[0]:09d}",
                    received_at=dt(1), status="registered", level="grid")
    defaults.update(kw)
    return Case.objects.create(area_code=area, **defaults)


@pytest.fixture
def fixture(cast):
    a1, b1 = cast.grid_a1.code, cast.grid_b1.code
    # Village A (刘冲村), March 2025:
    # c1: accepted 3/2, closed 3/5 ≤ due 3/10, first time (grid→grid)           → closed, on time, first-time
    c1 = mk(a1, received_at=dt(2), accepted_at=dt(2), accepted_level="grid", resolved_level="grid",
            status="closed", closed_at=dt(5), due_at=dt(10))
    # c2: accepted 3/3, escalated once, closed 3/20 > due 3/15                  → closed, late, not first-time
    c2 = mk(a1, received_at=dt(3), accepted_at=dt(3), accepted_level="grid", resolved_level="village", level="village",
            escalation_count=1, status="closed", closed_at=dt(20), due_at=dt(15))
    # c3: accepted 3/10, open, due 3/25 (< as_of 3/31 end) → open overdue; received 3/10, age at NOW = 31 days
    mk(a1, received_at=dt(10), accepted_at=dt(10), accepted_level="grid", status="in_progress", due_at=dt(25))
    # c4: accepted 3/12, open, due 4/30 → open, not overdue; age at NOW = 29 days
    mk(a1, received_at=dt(12), accepted_at=dt(12), accepted_level="grid", status="assigned", due_at=dt(30, 4))
    # c5: received in Feb, accepted 2/20, closed 3/8 on time, reopened before → closed, on time, not first-time
    mk(a1, received_at=dt(18, 2), accepted_at=dt(20, 2), accepted_level="grid", resolved_level="grid",
       reopen_count=1, status="closed", closed_at=dt(8), due_at=dt(9))
    # c6: petition received 3/28, registered, not yet accepted; age 13 days
    mk(a1, kind="petition", received_at=dt(28), status="registered")
    # Village B: one closed case in March — must not leak into village A's numbers.
    mk(b1, received_at=dt(4), accepted_at=dt(4), accepted_level="grid", resolved_level="grid",
       status="closed", closed_at=dt(6), due_at=dt(10))
    # Mediations in village A, March: 2 success + 1 failure; one success in April (out of period)
    for result, day, month in (("success", 4, 3), ("success", 15, 3), ("failure", 16, 3), ("success", 2, 4)):
        Mediation.objects.create(case=c2, held_at=dt(day, month), result=result, mediator_names="李")
    # Skip-level petition in village A on 2024-11-15
    SkipLevelRecord.objects.create(case=c1, area_code=a1, occurred_on=date(2024, 11, 15), destination="县信访局")
    return cast


def test_village_a_march(fixture):
    k = metrics.case_kpis(fixture.grid_a1.code[:12], MARCH, now=NOW)
    # received in March: c1 c2 c3 c4 c6 = 5
    assert k.registered == 5
    # accepted in March: c1 c2 c3 c4 = 4; of those closed: c1 c2 = 2 → 50.00 %
    assert (k.accepted, k.accepted_closed, k.closure_rate) == (4, 2, Decimal("50.00"))
    # closed in March: c1 c2 c5 = 3; on time: c1 c5 = 2; open overdue: c3 = 1 → 2 / (3 + 1) = 50.00 %
    assert (k.closed, k.closed_on_time, k.open_overdue, k.on_time_rate) == (3, 2, 1, Decimal("50.00"))
    # first time: only c1 (c2 escalated, c5 reopened) → 1 / 3 = 33.33 %
    assert (k.first_time, k.first_time_rate) == (1, Decimal("33.33"))
    # mediations in March: 3, successful 2 → 66.67 %
    assert (k.mediations, k.mediations_successful, k.mediation_success_rate) == (3, 2, Decimal("66.67"))
    assert k.skip_level_count == 0
    # days to close: c1 3.0, c2 17.0, c5 (2/18 → 3/8) 18.0 → 38 / 3 = 12.7
    assert k.avg_days_to_close == Decimal("12.7")


def test_township_includes_both_villages(fixture):
    k = metrics.case_kpis("341524111", MARCH, now=NOW)
    assert k.registered == 6 and k.closed == 4 and k.first_time == 2


def test_on_time_rate_counts_open_overdue_as_late(fixture):
    k = metrics.case_kpis(fixture.grid_a1.code[:12], MARCH, now=NOW)
    closed_only = Decimal(k.closed_on_time * 100 / k.closed).quantize(Decimal("0.01"))
    assert k.on_time_rate < closed_only


def test_grid_and_kind_filters(fixture):
    assert metrics.case_kpis(fixture.grid_a2.code, MARCH, now=NOW).registered == 0
    assert metrics.case_kpis(fixture.grid_a1.code[:12], MARCH, kind="petition", now=NOW).registered == 1


def test_empty_denominators_give_none(cast):
    k = metrics.case_kpis(cast.grid_a2.code, MARCH, now=NOW)
    assert k.closure_rate is None and k.mediation_success_rate is None and k.avg_days_to_close is None


def test_months_without_skip_level(fixture):
    # last skip-level 2024-11-15; as of 2025-04-10 → 4 whole months (11/15 → 3/15 … 4/10 < 4/15)
    assert metrics.months_without_skip_level(fixture.grid_a1.code[:12], as_of=date(2025, 4, 10)) == 4
    assert metrics.months_without_skip_level(fixture.grid_a1.code[:12], as_of=date(2025, 4, 15)) == 5
    # village B never had one: counted from its first case (2025-03-04) → 1 month on 2025-04-10
    assert metrics.months_without_skip_level(fixture.grid_b1.code[:12], as_of=date(2025, 4, 10)) == 1
    assert metrics.months_without_skip_level("341524208", as_of=date(2025, 4, 10)) is None


def test_backlog_by_age(fixture):
    bands = metrics.backlog_by_age(fixture.grid_a1.code[:12], now=NOW)
    # open: c3 (31 days), c4 (29 days), c6 (13 days)
    assert [b["count"] for b in bands] == [0, 2, 1, 0]


def test_counts_by_channel_and_village_table(fixture):
    Case.objects.filter(kind="petition").update(channel="letter")
    by_channel = metrics.counts_by(fixture.grid_a1.code[:12], MARCH, "channel")
    assert by_channel == [{"key": "walk_in", "count": 4}, {"key": "letter", "count": 1}]
    table = {r["name"]: r for r in metrics.village_table("341524111", MARCH, now=NOW)}
    assert len(table) == 12
    a = table["刘冲村"]
    # disputes in A: received in March c1 c2 c3 c4 = 4; closed in March c1 c2 c5 = 3; open c3 c4; overdue c3
    assert (a["registered"], a["closed"], a["open"], a["overdue"]) == (4, 3, 2, 1)
    assert (a["mediations"], a["mediations_successful"]) == (3, 2)
    assert table["大岗村"]["closed"] == 1 and table["龚店村"]["registered"] == 0


def test_periods_are_half_open(fixture):
    k = metrics.case_kpis(fixture.grid_a1.code[:12], periods.month(2025, 2), now=NOW)
    assert k.registered == 1 and k.accepted == 1 and k.closed == 0
    assert timedelta(0) < NOW - dt(1)
