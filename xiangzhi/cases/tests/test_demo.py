"""Demo cases: 白塔畈镇 looks as the articles say, the queues are alive, the history is what
the services would have written, and a second load changes nothing."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from xiangzhi.accounts.models import User
from xiangzhi.audit.models import AuditEvent
from xiangzhi.cases import deadlines, metrics, selectors
from xiangzhi.cases.choices import OPEN_STATUSES, Kind
from xiangzhi.cases.demo import load_cases_demo
from xiangzhi.cases.models import Case, CaseEvent, FollowUp, Mediation, Meeting
from xiangzhi.cases.selectors import CaseFilters
from xiangzhi.cases.workflow import TRANSITIONS
from xiangzhi.core import demo, periods

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_cases(db):
    """What load_demo has done before its cases part (regions, grids, accounts), then the cases."""
    from xiangzhi.core.management.commands.load_demo import load_users
    from xiangzhi.org.models import Region
    from xiangzhi.org.services import regions_import_shipped
    from xiangzhi.residents.synth import ensure_grids

    regions_import_shipped(actor=None)
    villages = list(Region.objects.filter(parent_id=demo.BAITAFAN, level="village").values_list("code", flat=True))
    ensure_grids(villages, seed=demo.DEMO_SEED)
    load_users()
    counts = load_cases_demo()
    return counts


def test_baitafan_2022_to_today_looks_as_the_articles_say(demo_cases):
    today = periods.local_today()
    since_2022 = periods.custom(date(2022, 1, 1), today)
    disputes = metrics.case_kpis(demo.BAITAFAN, since_2022, kind=Kind.DISPUTE)
    assert disputes.closed >= 200
    resolved = Case.objects.filter(area_code__startswith=demo.BAITAFAN, kind=Kind.DISPUTE, resolved_at__isnull=False)
    assert resolved.filter(resolved_at__lt=periods.year(2025).end_dt).count() >= 200  # 2022–2025 alone
    assert {v[:12] for v in resolved.values_list("area_code", flat=True)} == set(
        r["code"] for r in metrics.village_table(demo.BAITAFAN, since_2022)
    )  # all 12 villages
    everything = metrics.case_kpis(demo.BAITAFAN, since_2022)
    assert everything.mediation_success_rate == 100 and str(everything.mediation_success_rate) == "100.00"
    assert everything.skip_level_count == 0
    assert everything.first_time_rate >= 85 and everything.on_time_rate >= 85
    assert metrics.months_without_skip_level(demo.BAITAFAN) >= (today.year - 2022) * 12 + today.month - 2
    # petitions are handled through 包案: every accepted petition has a township leader as lead
    petitions = Case.objects.filter(area_code__startswith=demo.BAITAFAN, kind=Kind.PETITION, accepted_at__isnull=False)
    assert petitions.count() >= 40
    assert set(petitions.values_list("lead__username", flat=True)) <= {"baitafan_shuji", "baitafan_admin"}
    closed = Case.objects.filter(area_code__startswith=demo.BAITAFAN, status="closed")
    assert closed.exclude(satisfaction="").count() == closed.count()
    assert closed.filter(satisfaction="satisfied").count() > 0.75 * closed.count()


def test_the_queues_are_alive(demo_cases):
    now = timezone.now()
    liuchong = Case.objects.filter(area_code__startswith=demo.LIUCHONG)
    assert liuchong.filter(deadlines.current_due_q(now)).count() >= 2  # overdue (red) cases in 刘冲村
    assert metrics.case_kpis(demo.LIUCHONG, periods.year(periods.local_today().year)).open_overdue >= 1
    for username, warnings in (("liuchong_grid1", {"red", "yellow"}), ("liuchong_secretary", {"red", "yellow"})):
        user = User.objects.get(username=username)
        queue = selectors.case_list(user=user, filters=CaseFilters(status="open"), now=now)
        assert warnings <= set(queue.values_list("warning", flat=True)), username
    dagang = User.objects.get(username="dagang_secretary")
    assert selectors.case_list(user=dagang, filters=CaseFilters(status="open")).count() >= 3
    assert Case.objects.filter(area_code__startswith=demo.DAGANG, status__in=OPEN_STATUSES).count() >= 3


def test_history_is_what_the_services_would_have_written(demo_cases):
    now = timezone.now()
    cases = {c.pk: c for c in Case.objects.filter(source="demo")}
    assert len(cases) == demo_cases["cases"]
    chains: dict[int, list] = {}
    for e in CaseEvent.objects.filter(case_id__in=cases).order_by("at", "id"):
        chains.setdefault(e.case_id, []).append(e)
    for pk, case in cases.items():
        events = chains[pk]
        assert events[0].action == "register" and events[0].at == case.received_at
        for prev, e in zip(events, events[1:], strict=False):
            assert e.from_status == prev.to_status and e.from_level == prev.to_level, (case.title, e.action)
            if e.from_status != e.to_status or e.action in ("escalate", "supervise"):
                assert (e.from_status, e.action) in TRANSITIONS, (case.title, e.action)
            assert e.at >= prev.at
        assert events[-1].to_status == case.status and events[-1].to_level == case.level
        assert events[-1].at <= now
        if case.status != "registered":
            assert case.lead_id and case.responsibility and case.plan and case.due_at or case.status == "accepted"
        if case.status == "closed":
            assert case.resolved_at <= case.closed_at and case.resolution
            assert case.escalation_count == sum(1 for e in events if e.action == "escalate")
    assert not Mediation.objects.exclude(result="success").exists()
    assert not Mediation.objects.filter(agreement_no="").exists()
    assert Meeting.objects.filter(case__kind=Kind.PETITION).count() >= 40
    # mediation / meeting / follow-up events point at their rows
    for e in CaseEvent.objects.filter(action="mediation")[:20]:
        assert Mediation.objects.filter(pk=e.data["mediation_id"], case_id=e.case_id).exists()
    for e in CaseEvent.objects.filter(action="meeting")[:20]:
        assert Meeting.objects.filter(pk=e.data["meeting_id"], case_id=e.case_id).exists()
    assert FollowUp.objects.count() == Case.objects.filter(status="closed").count()


def test_running_it_twice_changes_nothing(demo_cases):
    def snapshot():
        return (
            Case.objects.count(),
            CaseEvent.objects.count(),
            Mediation.objects.count(),
            FollowUp.objects.count(),
            User.objects.count(),
            AuditEvent.objects.count(),
            sorted(Case.objects.values_list("tracking_code", "status", "updated_at")),
        )

    before = snapshot()
    assert load_cases_demo() == {"cases": 0}
    assert snapshot() == before


def test_the_same_seed_gives_the_same_history(demo_cases):
    first = list(
        Case.objects.filter(source="demo", received_at__lt=timezone.now() - timedelta(days=90))
        .order_by("received_at")
        .values_list("tracking_code", "title", "area_code", "received_at", "closed_at")
    )
    Case.objects.all().delete()
    load_cases_demo()
    again = list(
        Case.objects.filter(source="demo", received_at__lt=timezone.now() - timedelta(days=90))
        .order_by("received_at")
        .values_list("tracking_code", "title", "area_code", "received_at", "closed_at")
    )
    assert first == again and len(first) > 200
