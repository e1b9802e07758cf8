"""Expiry of old points (expiry.py): off by default; FIFO over hand-computed ledgers; never
more than the balance; idempotent per account and cutoff date; the periodic job only when
enabled."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings

from xiangzhi.core import periods
from xiangzhi.points import ledger
from xiangzhi.points.expiry import cutoff_for, expirable, expire_points
from xiangzhi.points.models import Account, LedgerEntry

pytestmark = pytest.mark.django_db


def local(y, m, d, hh=10):
    return datetime(y, m, d, hh, tzinfo=periods.TZ)


@contextmanager
def at(moment):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


_n = [0]


def book(account, when, amount, kind=None, reverses=None):
    _n[0] += 1
    with at(when):
        if reverses is not None:
            return ledger.reverse(actor=None, entry=reverses, reason="录入错误")
        kind = kind or ("award" if amount > 0 else "redemption")
        return ledger.post(actor=None, account=account.pk, amount=amount, kind=kind, source=f"t:{_n[0]}",
                           idempotency_key=f"t:{_n[0]}")  # fmt: skip


@pytest.fixture
def acc():
    return Account.objects.create(subject_kind="household", name="测试户", area_code="341524111206001")


def balance(account):
    account.refresh_from_db()
    return account.balance


NOW = local(2025, 6, 10)


def test_off_by_default(acc):
    book(acc, local(2015, 1, 1), 50)
    with at(NOW):
        assert expire_points() == {"enabled": False, "cutoff": None, "accounts": 0, "points": 0}
    assert balance(acc) == 50


def test_cutoff_is_n_years_back_and_29_february_becomes_28():
    assert cutoff_for(date(2025, 6, 10), 5) == date(2020, 6, 10)
    assert cutoff_for(date(2024, 2, 29), 1) == date(2023, 2, 28)


def test_the_docstring_example(acc):
    """+10 (2019-03), −4 redemption (2020-05), +20 (2023-01); N = 5 on 2025-06-10 → cutoff
    2020-06-10: old 10 − spent 4 = 6 expire, balance 26 → 20."""
    book(acc, local(2019, 3, 1), 10)
    book(acc, local(2020, 5, 1), -4)
    book(acc, local(2023, 1, 1), 20)
    result = expire_points(NOW, years=5)
    assert result == {"enabled": True, "cutoff": date(2020, 6, 10), "accounts": 1, "points": 6}
    assert balance(acc) == 20
    entry = acc.entries.order_by("-id").first()
    assert (entry.kind, entry.amount, entry.balance_after) == ("expiry", -6, 20)
    assert entry.idempotency_key == f"expiry:{acc.pk}:2020-06-10" and entry.source == "expiry:2020-06-10"


def test_spending_after_the_cutoff_uses_the_oldest_points_first(acc):
    """+30 (2018), +40 (2022), −35 (2024): FIFO spends the 30 old and 5 new → nothing old left."""
    book(acc, local(2018, 5, 1), 30)
    book(acc, local(2022, 5, 1), 40)
    book(acc, local(2024, 5, 1), -35)
    assert expire_points(NOW, years=5)["points"] == 0
    assert balance(acc) == 35


def test_partly_spent_old_points(acc):
    """+30 (2018), +12 (2019), deduction −5 (2021), redemption −20 (2024), +8 (2025):
    old = 42, spent = 25 → 17 expire; balance 25 → 8."""
    book(acc, local(2018, 5, 1), 30)
    book(acc, local(2019, 7, 1), 12)
    book(acc, local(2021, 1, 1), -5, kind="deduction")
    book(acc, local(2024, 5, 1), -20)
    book(acc, local(2025, 1, 1), 8)
    assert expire_points(NOW, years=5)["points"] == 17
    assert balance(acc) == 8


def test_a_cancelled_redemption_spent_nothing(acc):
    """+20 (2018), −15 redemption (2019) reversed in 2024: both leave the count → 20 expire."""
    book(acc, local(2018, 5, 1), 20)
    spent = book(acc, local(2019, 5, 1), -15)
    book(acc, local(2024, 5, 1), None, reverses=spent)
    assert expire_points(NOW, years=5)["points"] == 20
    assert balance(acc) == 0


def test_a_reversed_old_award_does_not_expire_again(acc):
    """+20 (2018) reversed (2019), +5 (2018): only the 5 expire."""
    wrong = book(acc, local(2018, 5, 1), 20)
    book(acc, local(2018, 6, 1), 5)
    book(acc, local(2019, 1, 1), None, reverses=wrong)
    assert expire_points(NOW, years=5)["points"] == 5
    assert balance(acc) == 0


def test_idempotent_per_cutoff_date_and_incremental_later(acc):
    """Same day twice: one entry. A year later the points of the next year expire too."""
    book(acc, local(2019, 3, 1), 10)
    book(acc, local(2020, 9, 1), 7)
    book(acc, local(2023, 1, 1), 4)
    assert expire_points(NOW, years=5)["points"] == 10
    assert expire_points(NOW, years=5)["points"] == 0
    assert LedgerEntry.objects.filter(kind="expiry").count() == 1
    later = local(2026, 6, 10)
    assert expire_points(later, years=5) == {"enabled": True, "cutoff": date(2021, 6, 10), "accounts": 1, "points": 7}
    assert balance(acc) == 4
    assert ledger.reconcile()["mismatches"] == []


def test_never_more_than_the_balance_and_nothing_for_new_points(acc):
    other = Account.objects.create(subject_kind="household", name="新户", area_code="341524111206001")
    book(other, local(2024, 1, 1), 50)
    book(acc, local(2018, 1, 1), 9)
    assert expirable(acc.pk, datetime(2020, 6, 10, tzinfo=periods.TZ)) == 9
    result = expire_points(NOW, years=5)
    assert result["accounts"] == 1 and balance(other) == 50 and balance(acc) == 0


@override_settings(POINTS_EXPIRY_YEARS=3)
def test_setting_enables_it_and_the_command_reports(acc, capsys):
    book(acc, local(2020, 1, 1), 12)
    with at(NOW):
        call_command("expire_points")
    out = capsys.readouterr().out
    assert "截止 2022-06-10 以前获得的积分：1 个账户过期 12 分" in out
    assert balance(acc) == 0


def test_party_member_and_cadre_points_do_not_lapse_by_default(acc):
    cadre = Account.objects.create(subject_kind="cadre", name="干部", area_code="341524111206")
    member = Account.objects.create(subject_kind="party_member", name="党员", area_code="341524111206001")
    for a in (acc, cadre, member):
        book(a, local(2019, 3, 1), 10)
    with at(NOW):
        done = expire_points(years=5)
    assert done["accounts"] == 1 and (balance(acc), balance(cadre), balance(member)) == (0, 10, 10)
    with override_settings(POINTS_EXPIRY_KINDS=("household", "party_member")), at(NOW):
        expire_points(years=5)
    assert (balance(cadre), balance(member)) == (10, 0)


def test_command_without_the_setting_says_it_is_off(capsys):
    call_command("expire_points")
    assert "未启用" in capsys.readouterr().out


def test_periodic_job_only_when_enabled():
    from django.apps import apps

    from xiangzhi.core import periodic

    config = apps.get_app_config("points")
    before = list(periodic.JOBS)
    try:
        periodic.JOBS[:] = [j for j in periodic.JOBS if j[0] != "expire_points"]
        config.ready()
        assert "expire_points" not in [name for name, _ in periodic.JOBS]
        with override_settings(POINTS_EXPIRY_YEARS=2):
            config.ready()
        assert ("expire_points", 86400) in periodic.JOBS
    finally:
        periodic.JOBS[:] = before
