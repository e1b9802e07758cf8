from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from xiangzhi.cadres import services as cadre_services
from xiangzhi.cases import services as case_services
from xiangzhi.core import periods
from xiangzhi.visits import metrics, services
from xiangzhi.visits.models import Visit

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def cadre(cast):
    return cadre_services.cadre_create(actor=None, area_code="341524111206", name="网格员甲", sex="male",
                                       birth_date=date(1990, 3, 3), education="bachelor", establishment="village",
                                       user=cast.grid_worker_a1)


def test_visit_with_a_problem_becomes_a_need_case_and_counts_as_solved_when_closed(cast, cadre):
    visit = services.visit_log(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY,
                               households=[cast.household_a1], summary="了解老人生活情况",
                               problems=["屋顶漏雨，需要修缮"])
    problem = visit.problems.get()
    case = services.problem_to_case(actor=cast.grid_worker_a1, problem=problem)
    assert (case.kind, case.channel, case.household_id) == ("need", "visit", cast.household_a1.pk)
    assert services.problem_to_case(actor=cast.grid_worker_a1, problem=problem).pk == case.pk  # one tap, one case
    month = periods.current("month")
    assert metrics.problems("341524111206", month) == {"found": 1, "to_case": 1, "solved": 0, "solved_rate": 0}
    case_services.case_accept(actor=cast.grid_worker_a1, case=case)
    case_services.case_assign(actor=cast.secretary_a, case=case, lead=cast.township_admin,
                              handler=cast.grid_worker_a1, responsibility="网格员跟进", plan="联系危房改造",
                              due_at=timezone.now() + timedelta(days=3))
    case_services.case_start(actor=cast.grid_worker_a1, case=case)
    case_services.case_resolve(actor=cast.grid_worker_a1, case=case, note="已修缮")
    case_services.case_close(actor=cast.secretary_a, case=case, resolution="屋顶已修好")
    assert metrics.problems("341524111206", month)["solved"] == 1


def test_future_date_and_household_outside_area_are_refused(cast, cadre):
    with pytest.raises(ValidationError) as exc:
        services.visit_log(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY + timedelta(days=1),
                           households=[cast.household_a1], summary="走访")
    assert "不能晚于今天" in exc.value.message_dict["visited_on"][0]
    with pytest.raises(ValidationError) as exc:
        services.visit_log(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY,
                           households=[cast.household_b1], summary="走访")
    assert "不在您的管辖范围内" in exc.value.message_dict["households"][0]
    assert not Visit.objects.exists()


def test_offline_draft_sent_twice_lands_once(cast, cadre):
    kwargs = dict(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY, households=[cast.household_a1],
                  summary="走访", client_id="draft-7f3a")
    assert services.visit_log(**kwargs).pk == services.visit_log(**kwargs).pk
    assert Visit.objects.count() == 1


def test_cannot_log_for_another_cadre(cast, cadre):
    other = cadre_services.cadre_create(actor=None, area_code="341524111206", name="干部乙", sex="female",
                                        birth_date=date(1985, 1, 1), education="bachelor", establishment="village")
    with pytest.raises(PermissionDenied):
        services.visit_log(actor=cast.grid_worker_a1, cadre=other, visited_on=TODAY,
                           households=[cast.household_a1], summary="走访")


def test_counts_and_coverage(cast, cadre):
    for h in (cast.household_a1, cast.villager_household):
        services.contact_assign(actor=None, cadre=cadre, kind="heart_link", start=TODAY - timedelta(days=30),
                                household=h)
    services.contact_assign(actor=None, cadre=cadre, kind="four_links", start=TODAY - timedelta(days=30),
                            household=cast.household_a2, help="产业帮扶")
    services.visit_log(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY, households=[cast.household_a1],
                       summary="走访一")
    services.visit_log(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY,
                       households=[cast.household_a1, cast.villager_household], summary="走访二")
    services.visit_log(actor=cast.grid_worker_a1, cadre=cadre, visited_on=TODAY, kind="bench_meeting",
                       group_name="刘冲一组", attendees=12, summary="板凳会", area_code=cast.grid_a1.code)
    month = periods.current("month")
    counts = metrics.visit_counts("341524111206", month)
    # 3 visits; household-visits 1 + 2 = 3; distinct households 2; person-times 3 + 12 attendees = 15
    assert counts == {"visits": 3, "household_visits": 3, "households_visited": 2, "person_times": 15}
    # assigned: a1, villager, a2 (3); visited: a1, villager (2) → 66.67 %
    cov = metrics.coverage("341524111206", month)
    assert (cov["assigned"], cov["visited"], str(cov["coverage"])) == (3, 2, "66.67")
    stale = list(metrics.not_visited_since("341524111206", 7, today=TODAY))
    assert stale == [cast.household_a2]
