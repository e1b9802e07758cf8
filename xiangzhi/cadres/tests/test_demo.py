"""Demo data (manage.py load_demo): 果子园乡's roster shows the article's figures, 白塔畈镇's
2022 shows "走访群众3000余人次，解决问题1000余件" from the data (problems solved counted from
linked closed cases), 22 criticisms and 4 units commended; a second load changes nothing.

load_demo runs once for the module (inside a transaction rolled back at the end)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cadres import demo, metrics, reference
from xiangzhi.cadres.models import Cadre, Commitment, FourOnes, Post, Recognition
from xiangzhi.cases.models import Case, CaseEvent
from xiangzhi.cases.workflow import TRANSITIONS
from xiangzhi.core import periods
from xiangzhi.core.demo import BAITAFAN, DAGANG, LIUCHONG
from xiangzhi.visits import metrics as visit_metrics
from xiangzhi.visits.models import ContactAssignment, Problem, Visit, VisitHousehold

pytestmark = pytest.mark.django_db
Y2022 = periods.year(2022)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
        yield
        transaction.set_rollback(True)


def test_guoziyuan_roster_shows_the_article_figures(loaded):
    r = metrics.roster(reference.TOWNSHIP, reference.REFERENCE_DATE)
    assert r.headcount == 67
    assert [r.by_establishment[e] for e in ("civil_service", "public_institution", "sanzhi_yifu")] == [22, 27, 18]
    assert (r.under_35, r.under_35_share) == (42, Decimal("62.69"))
    assert (r.leaders, r.leaders_average_age, r.leaders_under_35) == (12, Decimal("39.92"), 5)
    # history is kept: people who left and older posts exist but do not count on the day
    assert Cadre.objects.filter(area_code=reference.TOWNSHIP, left_on__isnull=False).exists()
    assert Post.objects.filter(area_code=reference.TOWNSHIP, end__lte=reference.REFERENCE_DATE).count() >= 3


def test_baitafan_2022_visits_and_problems_solved(loaded):
    counts = visit_metrics.visit_counts(BAITAFAN, Y2022)
    assert 3000 <= counts["person_times"] < 4000  # 走访群众3000余人次
    found = visit_metrics.problems(BAITAFAN, Y2022)
    assert 1000 <= found["solved"] < 2000 and found["found"] > 1000  # 解决问题1000余件
    # "solved" is the cases engine's: linked closed need cases, both ways
    problems = Problem.objects.filter(area_code__startswith=BAITAFAN, visit__visited_on__year=2022)
    solved = problems.filter(case__status="closed", case__kind="need", case__channel="visit")
    assert solved.count() == found["solved"]
    for p in solved.select_related("case")[:200]:
        assert p.case.source == f"visits.problem:{p.pk}" and p.case.area_code == p.area_code
        assert p.case.resolved_at <= p.case.closed_at and p.case.closed_at.year in (2022, 2023)
    coverage = visit_metrics.coverage(BAITAFAN, Y2022)
    households = VisitHousehold.objects.filter(area_code__startswith=BAITAFAN).values("household").distinct().count()
    assert coverage["coverage"] >= 90 and households >= 600
    # every current village cadre has a 板凳会 group
    village_cadres = (
        Post.objects.filter(area_code__startswith=BAITAFAN, end__isnull=True)
        .exclude(area_code=BAITAFAN)
        .values("cadre")
    )
    grouped = ContactAssignment.objects.filter(kind="bench_meeting", cadre__in=village_cadres).values("cadre")
    assert set(village_cadres.values_list("cadre", flat=True)) == set(grouped.values_list("cadre", flat=True))


def test_problem_cases_follow_the_workflow_table(loaded):
    cases = Case.objects.filter(source__startswith="visits.problem:")
    sample = list(cases.order_by("id")[:: max(1, cases.count() // 150)])
    chains: dict[int, list] = {}
    for e in CaseEvent.objects.filter(case__in=sample).order_by("at", "id"):
        chains.setdefault(e.case_id, []).append(e)
    for case in sample:
        events = chains[case.pk]
        assert events[0].action == "register" and events[0].at == case.received_at
        for prev, e in zip(events, events[1:], strict=False):
            assert e.from_status == prev.to_status and e.at >= prev.at
            if e.from_status != e.to_status:
                assert (e.from_status, e.action) in TRANSITIONS
        assert events[-1].to_status == case.status
        if case.status == "closed":
            assert case.lead_id and case.handler_id and case.due_at and case.closed_at <= case.due_at


def test_baitafan_cadres_recognitions_and_growth(loaded):
    rec = metrics.recognitions(BAITAFAN, Y2022)
    assert (rec["criticisms"], rec["unit_commendations"]) == (22, 4)  # 通报批评22人次，表扬单位4个
    titles = set(Recognition.objects.filter(kind="honour", issued_on__year=2022).values_list("title", flat=True))
    assert titles == {"最美公务员", "最美村干部"}
    honoured = Recognition.objects.get(title="最美村干部").cadre
    assert honoured.posts.filter(is_secretary=True, end__isnull=True).exists()
    # 年龄变小、学历变高、人数变少; 一肩挑 and 每村一名大学生 in all 12 villages
    change = metrics.roster_change(BAITAFAN, demo.BEFORE, demo.AFTER)
    assert change["headcount"] < 0 and change["village_cadres_average_age"] < 0
    assert change["average_education_rank"] > 0 and change["college_share"] > 0
    after = change["after"]
    assert after.villages == after.villages_with_dual_role == after.villages_with_college_graduate == 12
    assert change["before"].villages_with_dual_role < 12
    # the demo accounts are cadres
    linked = dict(Cadre.objects.filter(user__isnull=False).values_list("user__username", "area_code"))
    assert linked["liuchong_secretary"] == linked["liuchong_grid1"] == LIUCHONG
    assert linked["dagang_secretary"] == DAGANG and linked["baitafan_admin"] == BAITAFAN
    grid = Cadre.objects.get(user__username="liuchong_grid1")
    assert ContactAssignment.objects.filter(cadre=grid, household__isnull=False).exists()
    articles = Counter(FourOnes.objects.filter(year=2022, kind="article").values_list("cadre", flat=True))
    assert len(articles) >= 5 and min(articles.values()) < 12 and max(articles.values()) == 12  # some months missing
    assert Commitment.objects.filter(fulfilled_on__isnull=True, deadline__lt=periods.local_today()).exists()
    assert Visit.objects.filter(area_code__startswith=BAITAFAN, visited_on__year=periods.local_today().year).exists()


def test_loading_twice_changes_nothing(loaded):
    def snapshot():
        return [
            m.objects.count()
            for m in (Cadre, Post, ContactAssignment, Visit, Problem, Case, CaseEvent, Recognition, AuditEvent)
        ]

    before = snapshot()
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert snapshot() == before
    assert demo.load_cadres_demo() == {"cadres": 0}


def test_roster_dates_are_sane(loaded):
    today = periods.local_today()
    for birth, start in Post.objects.filter(area_code__startswith=BAITAFAN).values_list("cadre__birth_date", "start"):
        assert metrics.age_on(birth, start) >= 18 and start <= today
    assert not Post.objects.filter(start__gt=date.today()).exists()


def test_the_same_seed_gives_the_same_rows(loaded):
    from xiangzhi.cadres.models import Lecture

    def _rows(qs):
        return sorted(qs, key=str)

    def fingerprint():
        return (
            _rows(Cadre.objects.values_list("area_code", "name", "birth_date", "education", "user__username")),
            _rows(Post.objects.values_list("cadre__name", "title", "start", "end")),
            _rows(ContactAssignment.objects.values_list("cadre__name", "kind", "household_id", "group_name")),
            _rows(Visit.objects.values_list("cadre__name", "visited_on", "area_code", "kind", "summary")),
            _rows(Problem.objects.values_list("visit__visited_on", "area_code", "description", "case__tracking_code")),
            _rows(Recognition.objects.values_list("cadre__name", "kind", "issued_on", "document_no")),
            _rows(FourOnes.objects.values_list("cadre__name", "kind", "done_on")),
        )

    first = fingerprint()
    with transaction.atomic():
        Case.objects.filter(source__startswith="visits.problem:").delete()
        Visit.objects.all().delete()
        ContactAssignment.objects.all().delete()
        Recognition.objects.all().delete()
        Lecture.objects.all().delete()
        Cadre.objects.all().delete()
        assert demo.load_cadres_demo()["cadres"] == len(first[0])
        assert fingerprint() == first
        transaction.set_rollback(True)
