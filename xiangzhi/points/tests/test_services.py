from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from xiangzhi.cases.models import Case
from xiangzhi.points import services
from xiangzhi.points.accounts import account_for_household
from xiangzhi.points.models import Award, LedgerEntry

pytestmark = pytest.mark.django_db

RULES = [
    {"code": "XL01", "name": "孝老爱亲", "category": "孝老爱亲", "points": 5, "feeds": "honor"},
    {"code": "HJ01", "name": "庭院整洁", "category": "环境卫生", "points": 2, "cap": 2, "cap_period": "month"},
    {"code": "HJ09", "name": "乱倒垃圾", "category": "环境卫生", "points": -3, "feeds": "warning"},
    {"code": "ZY01", "name": "参加志愿服务", "category": "志愿服务", "points": 5, "evidence_required": True},
]
TODAY = timezone.localdate()


@pytest.fixture
def book(cast):
    return services.rulebook_adopt(actor=cast.township_admin, area_code="341524111", title="白塔畈镇积分制管理办法",
                                   adopted_on=TODAY - timedelta(days=60), votes_for=40, votes_total=45, rules=RULES)


def rule(book, code):
    return book.rules.get(code=code)


@pytest.fixture
def acc(cast):
    return account_for_household(cast.household_a1)


def _through(cast, award, now=None):
    return services.award_review(actor=cast.secretary_a, award=award, approve=True, now=now)


def test_adoption_records_vote_and_versions(cast, book):
    assert (book.version, book.votes_for, book.is_current) == (1, 40, True)
    v2 = services.rulebook_adopt(actor=cast.township_admin, area_code="341524111", title="修订版",
                                 adopted_on=TODAY, votes_for=30, votes_total=45, rules=RULES[:1])
    book.refresh_from_db()
    assert v2.version == 2 and not book.is_current
    with pytest.raises(ValidationError) as exc:
        services.rulebook_adopt(actor=cast.township_admin, area_code="341524111", title="x", adopted_on=TODAY,
                                votes_for=10, votes_total=45, rules=RULES)
    assert "未过半数" in exc.value.message_dict["votes_for"][0]


def test_award_path_propose_review_publicity_post(cast, book, acc):
    award = services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "XL01"),
                                   occurred_on=TODAY, reason="照顾瘫痪老人十年")
    assert award.status == "proposed" and not LedgerEntry.objects.exists()
    services.award_review(actor=cast.secretary_a, award=award, approve=True)
    award.refresh_from_db()
    assert award.status == "publicizing"
    assert services.post_due_awards() == 0  # still in the publicity period
    assert services.post_due_awards(now=award.publicity_until + timedelta(seconds=1)) == 1
    assert services.post_due_awards(now=award.publicity_until + timedelta(days=1)) == 0  # idempotent
    acc.refresh_from_db()
    award.refresh_from_db()
    assert acc.balance == 5 and award.status == "posted" and award.posted_entry.source == f"award:{award.pk}"


def test_award_cites_the_rule_version_and_retired_rules_are_refused(cast, book, acc):
    services.rulebook_adopt(actor=cast.township_admin, area_code="341524111", title="修订版", adopted_on=TODAY,
                            votes_for=30, votes_total=45, rules=RULES)
    with pytest.raises(ValidationError) as exc:
        services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "XL01"), occurred_on=TODAY,
                               reason="x")
    assert "已被新版本取代" in exc.value.message_dict["rule"][0]


def test_cap_per_period(cast, book, acc):
    for _ in range(2):
        services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "HJ01"), occurred_on=TODAY,
                               reason="庭院整洁")
    with pytest.raises(ValidationError) as exc:
        services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "HJ01"), occurred_on=TODAY,
                               reason="庭院整洁")
    assert "每月最多 2 次" in exc.value.message_dict["rule"][0]


def test_evidence_required(cast, book, acc):
    with pytest.raises(ValidationError) as exc:
        services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "ZY01"), occurred_on=TODAY,
                               reason="志愿服务")
    assert "佐证照片" in exc.value.message_dict["evidence"][0]


def test_reject_needs_reason_and_outsiders_cannot_review(cast, book, acc):
    award = services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "XL01"), occurred_on=TODAY,
                                   reason="孝老")
    with pytest.raises(PermissionDenied):
        services.award_review(actor=cast.secretary_b, award=award, approve=True)
    with pytest.raises(PermissionDenied):
        services.award_review(actor=cast.grid_worker_a1, award=award, approve=True)
    with pytest.raises(ValidationError):
        services.award_review(actor=cast.secretary_a, award=award, approve=False)
    services.award_review(actor=cast.secretary_a, award=award, approve=False, note="事实不清")
    award.refresh_from_db()
    assert award.status == "rejected"


def test_objection_during_publicity_becomes_a_case_and_can_cancel(cast, book, acc):
    award = services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "XL01"), occurred_on=TODAY,
                                   reason="孝老")
    _through(cast, award)
    objection = services.award_object(actor=cast.villager, award=award, reason="该户并未照顾老人，情况不实")
    case = Case.objects.get(pk=objection.case_id)
    assert case.kind == "need" and case.source == f"points.award:{award.pk}" and case.area_code == acc.area_code
    award.refresh_from_db()
    assert award.status == "objected"
    assert services.post_due_awards(now=award.publicity_until + timedelta(days=1)) == 0
    services.objection_decide(actor=cast.secretary_a, objection=objection, upheld=True, note="经核实情况不实")
    award.refresh_from_db()
    acc.refresh_from_db()
    assert award.status == "cancelled" and acc.balance == 0


def test_objection_after_the_period_is_refused(cast, book, acc):
    award = services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "XL01"), occurred_on=TODAY,
                                   reason="孝老")
    award = _through(cast, award)
    with pytest.raises(ValidationError) as exc:
        services.award_object(actor=cast.villager, award=award, reason="情况不实不实",
                              now=award.publicity_until + timedelta(minutes=1))
    assert "公示期已结束" in exc.value.message_dict["award"][0]
    assert not Case.objects.exists()


def test_deduction_never_takes_balance_below_zero(cast, book, acc):
    award = services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "HJ09"), occurred_on=TODAY,
                                   reason="乱倒垃圾")
    _through(cast, award)
    services.post_due_awards(now=timezone.now() + timedelta(days=4))
    acc.refresh_from_db()
    award.refresh_from_db()
    assert acc.balance == 0 and award.status == "posted"


def test_batch_award_is_idempotent_per_activity_subject_rule(cast, book):
    accounts = [account_for_household(h) for h in (cast.household_a1, cast.household_a2, cast.villager_household)]
    r = rule(book, "XL01")
    _, n1 = services.activity_batch_award(actor=cast.secretary_a, area_code="341524111206", name="春季大扫除",
                                          held_on=TODAY, rule=r, accounts=accounts)
    _, n2 = services.activity_batch_award(actor=cast.secretary_a, area_code="341524111206", name="春季大扫除",
                                          held_on=TODAY, rule=r, accounts=accounts)
    assert (n1, n2) == (3, 0) and Award.objects.count() == 3


def test_red_black_list_generation_appeal_and_expiry(cast, book, acc):
    month_start = TODAY.replace(day=1)
    other = account_for_household(cast.household_a2)
    for a, code in ((acc, "XL01"), (other, "HJ09")):
        award = services.award_propose(actor=cast.secretary_a, account=a, rule=rule(book, code),
                                       occurred_on=TODAY, reason="评议")
        _through(cast, award)
    services.post_due_awards(now=timezone.now() + timedelta(days=4))
    board = services.list_generate(actor=cast.secretary_a, village_code="341524111206", period_kind="month",
                                   period_start=month_start)
    honor = board.entries.get(side="honor")
    warning = board.entries.get(side="warning")
    assert honor.account == acc and honor.points == 5
    assert warning.account == other and warning.evidence[0]["rule"] == "HJ09"
    with pytest.raises(ValidationError):
        services.appeal_file(actor=cast.secretary_a, entry=warning, reason="不实不实")  # not yet published
    services.list_approve(actor=cast.secretary_a, board=board)
    services.list_publish(actor=cast.secretary_a, board=board)
    appeal = services.appeal_file(actor=cast.secretary_a, entry=warning, reason="已清理并道歉，请求撤榜")
    services.appeal_decide(actor=cast.secretary_a, appeal=appeal, upheld=True, decision="经村评议同意撤榜")
    warning.refresh_from_db()
    assert warning.removed
    from xiangzhi.points.models import ListEntry

    assert not ListEntry.objects.filter(services.active_warnings_q()).exists()
    with pytest.raises(ValidationError):
        services.list_generate(actor=cast.secretary_a, village_code="341524111206", period_kind="month",
                               period_start=month_start)


def test_warning_entries_expire(cast, book, acc):
    from xiangzhi.points.models import ListEntry

    award = services.award_propose(actor=cast.grid_worker_a1, account=acc, rule=rule(book, "HJ09"), occurred_on=TODAY,
                                   reason="乱倒垃圾")
    _through(cast, award)
    services.post_due_awards(now=timezone.now() + timedelta(days=4))
    board = services.list_generate(actor=cast.secretary_a, village_code="341524111206", period_kind="month",
                                   period_start=TODAY.replace(day=1))
    services.list_approve(actor=cast.secretary_a, board=board)
    services.list_publish(actor=cast.secretary_a, board=board)
    entry = board.entries.get(side="warning")
    assert ListEntry.objects.filter(services.active_warnings_q(TODAY)).exists()
    assert not ListEntry.objects.filter(services.active_warnings_q(entry.expires_on)).exists()
    assert entry.expires_on > date.today()
