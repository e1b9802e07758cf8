"""积分制 workflow: rulebooks, proposed awards/deductions, review (评议), publicity (公示)
with objections, posting to the ledger; batch awards per activity; the 红黑榜 with due
process (draft → approved → published, appeals, expiry)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import periods
from xiangzhi.core.scoping import can_in_area, prefix_q
from xiangzhi.core.text import clean_text
from xiangzhi.core.uploads import check_upload, safe_name

from . import ledger
from .choices import AwardStatus, CapPeriod, EntryKind, Feeds, SubjectKind
from .models import Account, Activity, Appeal, Award, ListEntry, Objection, PointRule, RedBlackList, Rulebook

PUBLICITY_DAYS = 3
WARNING_VALID_DAYS = 180
HONOR_TOP_N = 10


def _err(field, message):
    return ValidationError({field: message})


# --- rulebooks -------------------------------------------------------------------------
@transaction.atomic
def rulebook_adopt(*, actor, area_code: str, title: str, adopted_on: date, votes_for: int, votes_total: int,
                   rules: list[dict], adopted_by: str = "村民代表大会") -> Rulebook:
    """Adopt a new version for a township (9) or a village's additions (12). The previous
    version stops being current; its rules can no longer be cited by new awards."""
    errors = {}
    if len(area_code) not in (9, 12):
        errors["area_code"] = "规则只能由乡镇或村制定"
    if not clean_text(title):
        errors["title"] = "请填写名称"
    if adopted_on is None or adopted_on > periods.local_today():
        errors["adopted_on"] = "通过日期不能晚于今天"
    if not (isinstance(votes_total, int) and isinstance(votes_for, int) and 0 < votes_total and
            0 <= votes_for <= votes_total):
        errors["votes_for"] = "票数不正确（赞成票不能多于应到人数）"
    elif votes_for * 2 <= votes_total:
        errors["votes_for"] = "赞成票未过半数，规则不能通过"
    if not rules:
        errors["rules"] = "至少需要一条规则"
    codes = [clean_text(r.get("code")) for r in rules]
    if len(set(codes)) != len(codes):
        errors["rules"] = "规则编号不能重复"
    if errors:
        raise ValidationError(errors)
    if actor is not None and not can_in_area(actor, "points.add_rulebook", area_code):
        raise PermissionDenied("无权制定该区域的积分规则")
    previous = Rulebook.objects.select_for_update().filter(area_code=area_code, is_current=True).first()
    version = (Rulebook.objects.filter(area_code=area_code).order_by("-version").values_list("version", flat=True)
               .first() or 0) + 1
    if previous:
        previous.is_current = False
        previous.save(update_fields=["is_current"])
    book = Rulebook.objects.create(area_code=area_code, version=version, title=clean_text(title)[:100],
                                   adopted_on=adopted_on, adopted_by=clean_text(adopted_by)[:100] or "村民代表大会",
                                   votes_for=votes_for, votes_total=votes_total, is_current=True)
    for i, r in enumerate(rules, start=1):
        points = r.get("points")
        if not isinstance(points, int) or isinstance(points, bool) or points == 0 or abs(points) > 1000:
            raise _err("rules", f"第 {i} 条：分值应为 -1000 到 1000 之间的非零整数")
        if r.get("subject_kind", SubjectKind.HOUSEHOLD) not in SubjectKind.values:
            raise _err("rules", f"第 {i} 条：适用对象无效")
        feeds = r.get("feeds", "")
        if feeds == Feeds.HONOR and points < 0 or feeds == Feeds.WARNING and points > 0:
            raise _err("rules", f"第 {i} 条：加分项只能计入红榜，扣分项只能计入黑榜")
        if not clean_text(r.get("name")):
            raise _err("rules", f"第 {i} 条：请填写事项")
        PointRule.objects.create(
            rulebook=book, code=clean_text(r["code"])[:20], name=clean_text(r["name"])[:100],
            category=clean_text(r.get("category", "其他"))[:20] or "其他", points=points,
            subject_kind=r.get("subject_kind", SubjectKind.HOUSEHOLD),
            evidence_required=bool(r.get("evidence_required")), cap=r.get("cap"),
            cap_period=r.get("cap_period", CapPeriod.YEAR), feeds=feeds,
        )
    audit.record(actor, "points.rulebook_adopt", book, version=version, rules=len(rules),
                 votes=f"{votes_for}/{votes_total}")
    return book


def rules_for(area_code: str, subject_kind: str | None = None):
    """Citable rules for an area: the current township book plus the current village
    additions."""
    qs = PointRule.objects.filter(
        rulebook__is_current=True, is_active=True, rulebook__area_code__in=[area_code[:9], area_code[:12]]
    ).select_related("rulebook")
    if subject_kind:
        qs = qs.filter(subject_kind=subject_kind)
    return qs.order_by("rulebook__area_code", "code")


# --- awards ----------------------------------------------------------------------------
def _cap_window(rule: PointRule, day: date) -> periods.Period:
    if rule.cap_period == CapPeriod.MONTH:
        return periods.month(day.year, day.month)
    if rule.cap_period == CapPeriod.QUARTER:
        return periods.quarter(day.year, (day.month - 1) // 3 + 1)
    return periods.year(day.year)


def _check_rule(rule: PointRule, account: Account, occurred_on: date, *, evidence, count_extra: int = 0) -> None:
    if not rule.is_active or not rule.rulebook.is_current:
        raise _err("rule", f"规则“{rule.code} {rule.name}”已停用或已被新版本取代，不能再引用")
    if rule.rulebook.area_code not in (account.area_code[:9], account.area_code[:12]):
        raise _err("rule", "该规则不适用于此户所在的村")
    if rule.subject_kind != account.subject_kind:
        raise _err("rule", f"该规则只适用于{SubjectKind(rule.subject_kind).label}")
    if occurred_on is None or occurred_on > periods.local_today():
        raise _err("occurred_on", "发生日期不能晚于今天")
    if occurred_on < rule.rulebook.adopted_on:
        raise _err("occurred_on", "发生日期早于该版规则的通过日期")
    if rule.evidence_required and not evidence:
        raise _err("evidence", "该规则需要上传佐证照片")
    if rule.cap:
        window = _cap_window(rule, occurred_on)
        used = Award.objects.filter(
            account=account, rule__code=rule.code, rule__rulebook__area_code=rule.rulebook.area_code,
            occurred_on__gte=window.start, occurred_on__lt=window.end,
        ).exclude(status__in=[AwardStatus.REJECTED, AwardStatus.CANCELLED]).count()
        if used + 1 + count_extra > rule.cap:
            raise _err("rule", f"“{rule.name}”{CapPeriod(rule.cap_period).label}最多 {rule.cap} 次，本期已有 {used} 次")


@transaction.atomic
def award_propose(*, actor, account: Account, rule: PointRule, occurred_on: date, reason: str, evidence=None,
                  claimed: bool = False, activity: Activity | None = None) -> Award:
    """A cadre or grid worker proposes (or a villager claims, ``claimed=True``) an award or
    deduction; it waits for the village review."""
    reason = clean_text(reason)
    if not reason:
        raise _err("reason", "请填写事由")
    account = Account.objects.select_for_update().get(pk=account.pk)
    rule = PointRule.objects.select_related("rulebook").get(pk=rule.pk)  # never trust a stale rulebook flag
    _check_rule(rule, account, occurred_on, evidence=evidence)
    if claimed:
        if actor is None or not Account.objects.filter(pk=account.pk).restrict(actor, "view").exists():
            raise PermissionDenied("只能为自己家申报")
        if rule.points < 0:
            raise _err("rule", "村民只能申报加分项")
    elif actor is not None and not can_in_area(actor, "points.add_award", account.area_code):
        raise PermissionDenied("无权为该户申报积分")
    award = Award(rule=rule, account=account, area_code=account.area_code, points=rule.points,
                  occurred_on=occurred_on, reason=reason[:500], proposed_by=actor, claimed=claimed, activity=activity)
    if evidence is not None:
        content_type = check_upload(evidence, field="evidence", allowed=("image/jpeg", "image/png", "image/webp"))
        _, stored = safe_name(getattr(evidence, "name", ""), content_type)
        award.evidence.save(stored, evidence, save=False)
    award.save()
    audit.record(actor, "points.award_propose", award, rule=rule.code, points=rule.points, claimed=claimed)
    return award


@transaction.atomic
def award_review(*, actor, award: Award, approve: bool, note: str = "", now: datetime | None = None) -> Award:
    """The village review committee (评议): approve → publicity for PUBLICITY_DAYS; reject
    with a reason."""
    award = Award.objects.select_for_update().select_related("rule__rulebook").get(pk=award.pk)
    if award.status != AwardStatus.PROPOSED:
        raise _err("status", f"该申报当前为“{AwardStatus(award.status).label}”，不能评议")
    if actor is None or not can_in_area(actor, "points.review_award", award.area_code):
        raise PermissionDenied("只有村评议小组可以评议")
    note = clean_text(note)
    if not approve and len(note) < 2:
        raise _err("note", "不通过须说明理由")
    now = now or timezone.now()
    award.reviewed_by, award.reviewed_at, award.review_note = actor, now, note[:500]
    if approve:
        award.status = AwardStatus.PUBLICIZING
        award.publicity_until = now + timedelta(days=PUBLICITY_DAYS)
    else:
        award.status = AwardStatus.REJECTED
    award.save()
    audit.record(actor, "points.award_review", award, approved=approve)
    return award


@transaction.atomic
def award_object(*, actor, award: Award, reason: str, name: str = "", now: datetime | None = None) -> Objection:
    """Anyone in the village may object during publicity; the objection becomes a case in
    the cases engine (kind dispute for deductions, need for awards), linked both ways."""
    from xiangzhi.cases import services as case_services

    now = now or timezone.now()
    award = Award.objects.select_for_update().select_related("rule", "account").get(pk=award.pk)
    if award.status != AwardStatus.PUBLICIZING or award.publicity_until is None or now >= award.publicity_until:
        raise _err("award", "公示期已结束或该积分不在公示中，不能提出异议")
    reason = str(reason or "").replace("\x00", "").strip()
    if len(reason) < 4:
        raise _err("reason", "请写明异议理由（至少 4 个字）")
    if actor is not None and not (
        can_in_area(actor, "points.view_award", award.area_code[:12]) or _lives_in(actor, award.area_code[:12])
    ):
        raise PermissionDenied("只有本村村民和干部可以提出异议")
    case = case_services.case_register(
        actor=None,
        kind="dispute" if award.points < 0 else "need",
        channel="online",
        area_code=award.area_code,
        title=f"积分公示异议：{award.account.name} {award.rule.name}"[:100],
        description=reason[:5000],
        contact_name=clean_text(name)[:50] or (str(actor) if actor else ""),
        source=f"points.award:{award.pk}",
    )
    objection = Objection.objects.create(award=award, reason=reason[:2000], raised_by=actor,
                                         raised_by_name=clean_text(name)[:50], case=case)
    award.status = AwardStatus.OBJECTED
    award.save(update_fields=["status"])
    audit.record(actor, "points.award_object", award, case_id=case.pk)
    return objection


@transaction.atomic
def objection_decide(*, actor, objection: Objection, upheld: bool, note: str = "") -> Award:
    """After handling the objection's case: upheld → the award is cancelled; dismissed →
    it posts to the ledger."""
    objection = Objection.objects.select_for_update().select_related("award").get(pk=objection.pk)
    award = objection.award
    if objection.upheld is not None:
        raise _err("objection", "该异议已处理")
    if actor is None or not can_in_area(actor, "points.review_award", award.area_code):
        raise PermissionDenied("无权处理异议")
    objection.upheld = upheld
    objection.save(update_fields=["upheld"])
    if upheld:
        award.status = AwardStatus.CANCELLED
        award.review_note = (clean_text(note) or "异议成立")[:500]
        award.save(update_fields=["status", "review_note"])
    else:
        _post_award(award, actor)
    audit.record(actor, "points.objection_decide", award, upheld=upheld)
    return award


def _post_award(award: Award, actor) -> None:
    kind = EntryKind.AWARD if award.points > 0 else EntryKind.DEDUCTION
    acc = ledger.lock_account(award.account_id)
    amount = award.points
    if amount < 0 and acc.balance + amount < 0:
        amount = -acc.balance  # a deduction never takes the balance below zero
    if amount:
        entry = ledger.post(actor=actor, account=acc.pk, amount=amount, kind=kind, source=f"award:{award.pk}",
                            idempotency_key=f"award:{award.pk}", note=award.rule.name[:200], locked=acc)
        award.posted_entry = entry
    award.status = AwardStatus.POSTED
    award.save(update_fields=["status", "posted_entry"])


def post_due_awards(*, now: datetime | None = None) -> int:
    """Post every award whose publicity period ended without objection. Idempotent (the
    ledger key is ``award:<id>``). Run by the worker loop."""
    now = now or timezone.now()
    done = 0
    for pk in list(
        Award.objects.filter(status=AwardStatus.PUBLICIZING, publicity_until__lte=now).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            award = Award.objects.select_for_update().select_related("rule").get(pk=pk)
            if award.status != AwardStatus.PUBLICIZING:
                continue
            _post_award(award, None)
            audit.record(None, "points.award_post", award, points=award.points)
            done += 1
    return done


@transaction.atomic
def activity_batch_award(*, actor, area_code: str, name: str, held_on: date, rule: PointRule, accounts,
                         reason: str = "") -> tuple[Activity, int]:
    """Everyone who attended gets the rule's points: one proposed award per (activity,
    subject, rule); running it again with the same people adds nobody twice."""
    name = clean_text(name)
    if not name:
        raise _err("name", "请填写活动名称")
    if actor is not None and not can_in_area(actor, "points.add_award", area_code):
        raise PermissionDenied("无权在该区域组织积分活动")
    activity, _ = Activity.objects.get_or_create(area_code=area_code, name=name[:100], held_on=held_on,
                                                 defaults={"created_by": actor})
    created = 0
    for account in accounts:
        if not account.area_code.startswith(area_code):
            raise _err("accounts", f"{account.name}不在活动所在区域")
        if Award.objects.filter(activity=activity, account=account, rule=rule).exists():
            continue
        try:
            with transaction.atomic():
                award_propose(actor=actor, account=account, rule=rule, occurred_on=held_on,
                              reason=clean_text(reason) or f"参加{name}", activity=activity)
                created += 1
        except IntegrityError:
            continue
    audit.record(actor, "points.activity_batch", activity, rule=rule.code, created=created)
    return activity, created


# --- 红黑榜 ------------------------------------------------------------------------------
def _period_of(kind: str, start: date) -> periods.Period:
    if kind == "quarter":
        return periods.quarter(start.year, (start.month - 1) // 3 + 1)
    return periods.month(start.year, start.month)


@transaction.atomic
def list_generate(*, actor, village_code: str, period_kind: str, period_start: date,
                  subject_kind: str = SubjectKind.HOUSEHOLD, top_n: int = HONOR_TOP_N) -> RedBlackList:
    """Draft a village's list for a period from the ledger: honour roll = the top N earners
    of the period plus everyone with an honour-rule award; warning list = everyone with a
    posted warning-rule deduction (each with its evidence)."""
    if period_kind not in ("month", "quarter"):
        raise _err("period_kind", "周期应为月度或季度")
    if len(village_code) != 12:
        raise _err("village_code", "红黑榜按村发布")
    if actor is not None and not can_in_area(actor, "points.change_redblacklist", village_code):
        raise PermissionDenied("无权编制该村红黑榜")
    period = _period_of(period_kind, period_start)
    board, created = RedBlackList.objects.get_or_create(
        area_code=village_code, subject_kind=subject_kind, period_kind=period_kind, period_start=period.start,
        defaults={"period_label": period.label},
    )
    if board.status != "draft":
        raise _err("status", "该期红黑榜已审定或发布，不能重新生成")
    board.entries.all().delete()
    # The period's posted awards: their ids from the covering index award_area_status_day (an
    # index range, not a scan of every award), then the rows in one query; the lists are
    # computed from them in memory (a month of a village in ~10 ms at 5M entries,
    # benchmarks/points.py).
    in_period = list(Award.objects.filter(
        prefix_q("area_code", village_code), status=AwardStatus.POSTED,
        occurred_on__gte=period.start, occurred_on__lt=period.end,
    ).order_by().values_list("pk", flat=True))
    posted = list(
        Award.objects.filter(pk__in=in_period, account__subject_kind=subject_kind)
        .select_related("rule").order_by("-created_at", "-id")
    )
    totals: dict[int, int] = {}
    for a in posted:
        if a.points > 0:
            totals[a.account_id] = totals.get(a.account_id, 0) + a.points
    honor_ids = sorted(totals, key=lambda acc: (-totals[acc], acc))[:top_n]
    honor_ids += sorted({a.account_id for a in posted if a.rule.feeds == Feeds.HONOR} - set(honor_ids))
    entries = []
    for rank, account_id in enumerate(honor_ids, start=1):
        evidence = [
            {"rule": a.rule.code, "name": a.rule.name, "award": a.pk, "points": a.points, "reason": a.reason}
            for a in posted if a.account_id == account_id and a.points > 0
        ][:10]
        entries.append(ListEntry(red_black_list=board, account_id=account_id, side="honor", rank=rank,
                                 points=totals.get(account_id, 0), evidence=evidence))
    by_account: dict[int, list] = {}
    for a in sorted(posted, key=lambda a: (a.account_id, a.occurred_on, a.pk)):
        if a.rule.feeds == Feeds.WARNING:
            by_account.setdefault(a.account_id, []).append(a)
    for rank, (account_id, awards) in enumerate(sorted(by_account.items()), start=1):
        entries.append(ListEntry(
            red_black_list=board, account_id=account_id, side="warning", rank=rank,
            points=sum(a.points for a in awards),
            evidence=[{"rule": a.rule.code, "name": a.rule.name, "award": a.pk, "points": a.points,
                       "reason": a.reason, "date": a.occurred_on.isoformat()} for a in awards],
            expires_on=period.end + timedelta(days=WARNING_VALID_DAYS),
        ))
    ListEntry.objects.bulk_create(entries)
    audit.record(actor, "points.list_generate", board, honor=len(honor_ids), warning=len(by_account))
    return board


@transaction.atomic
def list_entry_remove(*, actor, entry: ListEntry, reason: str) -> None:
    """Edit a draft: take someone off (with a reason)."""
    entry = ListEntry.objects.select_for_update().select_related("red_black_list").get(pk=entry.pk)
    if entry.red_black_list.status != "draft":
        raise _err("status", "只能修改草稿")
    if actor is None or not can_in_area(actor, "points.change_redblacklist", entry.red_black_list.area_code):
        raise PermissionDenied("无权修改")
    reason = clean_text(reason)
    if len(reason) < 2:
        raise _err("reason", "请说明原因")
    entry.removed, entry.removed_reason = True, reason[:500]
    entry.save(update_fields=["removed", "removed_reason"])
    audit.record(actor, "points.list_entry_remove", entry.red_black_list, entry_id=entry.pk, reason=reason[:200])


@transaction.atomic
def list_approve(*, actor, board: RedBlackList) -> RedBlackList:
    board = RedBlackList.objects.select_for_update().get(pk=board.pk)
    if board.status != "draft":
        raise _err("status", "只有草稿可以审定")
    if actor is None or not can_in_area(actor, "points.change_redblacklist", board.area_code):
        raise PermissionDenied("无权审定")
    board.status, board.approved_by = "approved", actor
    board.save(update_fields=["status", "approved_by"])
    audit.record(actor, "points.list_approve", board)
    return board


@transaction.atomic
def list_publish(*, actor, board: RedBlackList, now: datetime | None = None) -> RedBlackList:
    board = RedBlackList.objects.select_for_update().get(pk=board.pk)
    if board.status != "approved":
        raise _err("status", "审定后才能发布")
    if actor is None or not can_in_area(actor, "points.change_redblacklist", board.area_code):
        raise PermissionDenied("无权发布")
    now = now or timezone.now()
    board.status, board.published_at = "published", now
    board.publicity_until = now + timedelta(days=PUBLICITY_DAYS)
    board.save(update_fields=["status", "published_at", "publicity_until"])
    audit.record(actor, "points.list_publish", board)
    return board


@transaction.atomic
def appeal_file(*, actor, entry: ListEntry, reason: str) -> Appeal:
    """The listed household appeals (申诉) a warning entry."""
    entry = ListEntry.objects.select_for_update().select_related("red_black_list", "account").get(pk=entry.pk)
    if entry.side != "warning" or entry.removed or entry.red_black_list.status != "published":
        raise _err("entry", "只能对已发布的黑榜记录申诉")
    if not (_is_member(actor, entry.account) or (
        actor is not None and can_in_area(actor, "points.change_redblacklist", entry.red_black_list.area_code)
    )):
        raise PermissionDenied("只有上榜户本人或村干部代为提出申诉")
    reason = str(reason or "").strip()
    if len(reason) < 4:
        raise _err("reason", "请写明申诉理由（至少 4 个字）")
    if entry.appeals.filter(status="pending").exists():
        raise _err("entry", "已有待处理的申诉")
    appeal = Appeal.objects.create(entry=entry, reason=reason[:2000], filed_by=actor)
    audit.record(actor, "points.appeal_file", entry.red_black_list, entry_id=entry.pk)
    return appeal


@transaction.atomic
def appeal_decide(*, actor, appeal: Appeal, upheld: bool, decision: str) -> Appeal:
    appeal = Appeal.objects.select_for_update().select_related("entry__red_black_list").get(pk=appeal.pk)
    if appeal.status != "pending":
        raise _err("appeal", "该申诉已处理")
    if actor is None or not can_in_area(actor, "points.change_redblacklist", appeal.entry.red_black_list.area_code):
        raise PermissionDenied("无权处理申诉")
    decision = clean_text(decision)
    if len(decision) < 2:
        raise _err("decision", "请填写处理意见")
    appeal.status = "upheld" if upheld else "dismissed"
    appeal.decision, appeal.decided_by, appeal.decided_at = decision[:1000], actor, timezone.now()
    appeal.save()
    if upheld:
        entry = appeal.entry
        entry.removed, entry.removed_reason = True, f"申诉成立：{decision}"[:500]
        entry.save(update_fields=["removed", "removed_reason"])
    audit.record(actor, "points.appeal_decide", appeal.entry.red_black_list, appeal_id=appeal.pk, upheld=upheld)
    return appeal


def _is_member(actor, account: Account) -> bool:
    from xiangzhi.residents.models import Resident

    return bool(
        actor is not None and account.household_id
        and Resident.objects.filter(household_id=account.household_id, user_id=actor.pk).exists()
    )


def _lives_in(actor, village_code: str) -> bool:
    from xiangzhi.residents.models import Resident

    return Resident.objects.filter(user_id=actor.pk, household__village_code=village_code).exists()


def active_warnings_q(today: date | None = None) -> Q:
    """Warning entries still in force: published, not removed, not expired (an expired
    entry restores the household without any job flipping flags)."""
    today = today or periods.local_today()
    return Q(side="warning", removed=False, red_black_list__status="published") & (
        Q(expires_on__isnull=True) | Q(expires_on__gt=today)
    )
