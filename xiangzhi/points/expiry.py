"""Optional expiry of points older than N years (积分过期清零). Off by default:
``settings.POINTS_EXPIRY_YEARS`` (env ``XIANGZHI_POINTS_EXPIRY_YEARS``) is ``None``; the
periodic job ``expire_points`` is registered only when it is set.

The rule (FIFO — the oldest points are spent first):

* *cutoff* = the local (Asia/Shanghai) date N years before today (29 Feb → 28 Feb), at
  00:00; points *earned before the cutoff* are the credits (entries with a positive amount)
  created before it;
* a pair of an entry and its reversal cancels out (a cancelled redemption did not spend
  anything, a reversed award earned nothing), so reversed entries and reversal entries are
  left out of both sums;
* every debit ever posted — deductions, redemptions, earlier expiries — spent the oldest
  points first, so of the old credits ``old`` the still-unspent part is
  ``max(0, old − debits)``; that amount expires, never more than the balance;
* one ``EXPIRY`` entry per account and cutoff date, idempotency key
  ``expiry:<account>:<cutoff>``: a second run on the same day finds nothing left to expire
  (the first run's entry is a debit now) and a replay of the same posting returns the
  first entry.

Example: +10 (2019-03), −4 redemption (2020-05), +20 (2023-01), N = 5, today 2025-06-10 →
cutoff 2020-06-10, old = 10, debits = 4, expires 6; balance 26 → 20.

Only the accounts of ``settings.POINTS_EXPIRY_KINDS`` expire (env
``XIANGZHI_POINTS_EXPIRY_KINDS``, default ``household``): the 振风超市 household points. Party
members' and cadres' points are their 红黑榜 and 积分管理 record, which assessments read —
they do not lapse unless a township lists those kinds too.
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import periods

from . import ledger
from .choices import EntryKind
from .models import LedgerEntry


def enabled() -> bool:
    return bool(getattr(settings, "POINTS_EXPIRY_YEARS", None))


def cutoff_for(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def _counted():
    """Entries that count for FIFO: not reversed, and not reversals themselves."""
    return LedgerEntry.objects.filter(reversed_by__isnull=True).exclude(kind=EntryKind.REVERSAL)


def expirable(account_id: int, cutoff_dt: datetime) -> int:
    """Points of one account earned before ``cutoff_dt`` and not spent or expired yet."""
    qs = _counted().filter(account_id=account_id)
    agg = qs.aggregate(
        old=Sum("amount", filter=Q(amount__gt=0, created_at__lt=cutoff_dt)),
        spent=Sum("amount", filter=Q(amount__lt=0)),
    )
    return max(0, (agg["old"] or 0) + (agg["spent"] or 0))


def expiring_kinds() -> tuple[str, ...]:
    return tuple(getattr(settings, "POINTS_EXPIRY_KINDS", ("household",)))


def _candidates(cutoff_dt: datetime) -> list[int]:
    """Accounts of the expiring kinds whose old credits exceed all their debits (two
    grouped queries)."""
    old = dict(
        _counted()
        .filter(amount__gt=0, created_at__lt=cutoff_dt, account__subject_kind__in=expiring_kinds())
        .values("account")
        .annotate(s=Sum("amount"))
        .values_list("account", "s")
    )
    if not old:
        return []
    spent = dict(
        _counted()
        .filter(amount__lt=0, account_id__in=list(old))
        .values("account")
        .annotate(s=Sum("amount"))
        .values_list("account", "s")
    )
    return sorted(a for a, s in old.items() if s + (spent.get(a) or 0) > 0)


def expire_points(now: datetime | None = None, *, years: int | None = None) -> dict:
    """Post the EXPIRY entries due at ``now`` (see the module doc). ``years`` overrides the
    setting; with neither, nothing happens. Returns what was done."""
    years = years if years is not None else getattr(settings, "POINTS_EXPIRY_YEARS", None)
    if not years:
        return {"enabled": False, "cutoff": None, "accounts": 0, "points": 0}
    now = now or timezone.now()
    today = timezone.localtime(now, periods.TZ).date()
    cutoff = cutoff_for(today, int(years))
    cutoff_dt = datetime.combine(cutoff, time.min, tzinfo=periods.TZ)
    accounts = points = 0
    for account_id in _candidates(cutoff_dt):
        key = f"expiry:{account_id}:{cutoff.isoformat()}"
        with transaction.atomic():
            acc = ledger.lock_account(account_id)
            if LedgerEntry.objects.filter(idempotency_key=key).exists():
                continue  # this cutoff date is done for the account
            amount = min(acc.balance, expirable(account_id, cutoff_dt))
            if amount <= 0:
                continue
            entry = ledger.post(
                actor=None,
                account=account_id,
                amount=-amount,
                kind=EntryKind.EXPIRY,
                source=f"expiry:{cutoff.isoformat()}",
                idempotency_key=key,
                note=f"{cutoff.year}年{cutoff.month}月{cutoff.day}日以前获得、尚未使用的积分过期清零（有效期 {years} 年）",
                locked=acc,
            )
            audit.record(None, "points.expire", entry, account_id=account_id, amount=-amount,
                         cutoff=cutoff.isoformat())  # fmt: skip
            accounts += 1
            points += amount
    return {"enabled": True, "cutoff": cutoff, "accounts": accounts, "points": points}
