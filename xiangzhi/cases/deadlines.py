"""Time limits. Petitions follow the 信访工作条例 (decide acceptance within 15 days of
receipt, handle within 60 days of acceptance, one extension of at most 30 days). Disputes
and needs use per-level limits configured by the township (DeadlinePolicy), defaulting to
grid 3 / village 7 / township 15 calendar days. Overdue is always computed in queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Case as SqlCase
from django.db.models import Q, Value, When
from django.utils import timezone

from xiangzhi.core import periods

from .choices import Kind, Level

PETITION_ACCEPT_DAYS = 15
PETITION_HANDLE_DAYS = 60
PETITION_MAX_EXTENSION = 30
DEFAULT_LIMITS = {Level.GRID: 3, Level.VILLAGE: 7, Level.TOWNSHIP: 15}
DEFAULT_YELLOW_SHARE = Decimal("0.70")


@dataclass(frozen=True)
class Limit:
    days: int
    working_days: bool
    yellow_share: Decimal


def level_limit(*, township_code: str, kind: str, level: str) -> Limit:
    from .models import DeadlinePolicy

    row = DeadlinePolicy.objects.filter(township_code=township_code, kind=kind, level=level).first()
    if row:
        return Limit(row.days, row.working_days, row.yellow_share)
    return Limit(DEFAULT_LIMITS[level], False, DEFAULT_YELLOW_SHARE)


def level_due(*, township_code: str, kind: str, level: str, since: datetime) -> datetime | None:
    """When a dispute/need must leave this level (None for petitions: they run on the
    statutory clock instead)."""
    if kind == Kind.PETITION:
        return None
    limit = level_limit(township_code=township_code, kind=kind, level=level)
    return periods.deadline(since, limit.days, working=limit.working_days)


def petition_accept_due(received_at: datetime) -> datetime:
    return periods.deadline(received_at, PETITION_ACCEPT_DAYS)


def petition_handle_due(accepted_at: datetime) -> datetime:
    return periods.deadline(accepted_at, PETITION_HANDLE_DAYS)


def current_due_q(now=None) -> Q:
    """Cases past the deadline that currently applies to them (open cases only)."""
    from .choices import OPEN_STATUSES, Status

    now = now or timezone.now()
    return Q(status__in=OPEN_STATUSES) & (
        Q(status=Status.REGISTERED, accept_due_at__lt=now)
        | Q(due_at__lt=now, status__in=[Status.ASSIGNED, Status.IN_PROGRESS, Status.UNRESOLVED, Status.RESOLVED])
        | Q(level_due_at__lt=now)
    )


def warning_annotation(now=None):
    """SQL expression: 'red' when overdue, 'yellow' past the yellow share of the level's
    window, else ''. Used by queues to badge and sort (overdue first)."""
    now = now or timezone.now()
    return SqlCase(
        When(current_due_q(now), then=Value("red")),
        When(Q(yellow_at__lt=now), then=Value("yellow")),
        default=Value(""),
    )


def yellow_at(since: datetime | None, due: datetime | None, share: Decimal = DEFAULT_YELLOW_SHARE):
    if not since or not due or due <= since:
        return None
    return since + (due - since) * float(share)
