"""The ledger's promises: balance = sum of entries ≥ 0, append-only, idempotent, reversible."""

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiangzhi.points import ledger
from xiangzhi.points.models import Account, LedgerEntry

pytestmark = pytest.mark.django_db


def _account(area="341524111206001", name="测试户"):
    return Account.objects.create(subject_kind="household", name=name, area_code=area)


def test_post_moves_balance_and_records_balance_after():
    acc = _account()
    e1 = ledger.post(actor=None, account=acc, amount=10, kind="award", source="award:1", idempotency_key="k1")
    e2 = ledger.post(actor=None, account=acc, amount=-4, kind="redemption", source="redemption:1", idempotency_key="k2")
    acc.refresh_from_db()
    assert (e1.balance_after, e2.balance_after, acc.balance, acc.earned_total) == (10, 6, 6, 10)


def test_overdraw_is_refused_and_nothing_written():
    acc = _account()
    ledger.post(actor=None, account=acc, amount=5, kind="award", source="award:1", idempotency_key="k1")
    with pytest.raises(ValidationError) as exc:
        ledger.post(actor=None, account=acc, amount=-6, kind="redemption", source="r", idempotency_key="k2")
    assert "积分余额不足：当前 5 分，需要 6 分" in exc.value.message_dict["amount"][0]
    assert LedgerEntry.objects.count() == 1


def test_same_key_same_body_returns_first_entry_other_body_conflicts():
    acc = _account()
    a = ledger.post(actor=None, account=acc, amount=5, kind="award", source="award:1", idempotency_key="k")
    b = ledger.post(actor=None, account=acc, amount=5, kind="award", source="award:1", idempotency_key="k")
    assert a.pk == b.pk
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.post(actor=None, account=acc, amount=6, kind="award", source="award:1", idempotency_key="k")
    acc.refresh_from_db()
    assert acc.balance == 5


def test_entries_cannot_be_updated_or_deleted_in_the_database():
    acc = _account()
    entry = ledger.post(actor=None, account=acc, amount=5, kind="award", source="award:1", idempotency_key="k")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=500)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).amount == 5


def test_balance_check_constraint_holds_even_if_code_bypasses_the_ledger():
    acc = _account()
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(pk=acc.pk).update(balance=-1)


def test_reversal_compensates_and_only_once():
    acc = _account()
    award = ledger.post(actor=None, account=acc, amount=8, kind="award", source="award:1", idempotency_key="k")
    rev = ledger.reverse(actor=None, entry=award, reason="录入错误")
    acc.refresh_from_db()
    assert (rev.amount, acc.balance, acc.earned_total, rev.reverses_id) == (-8, 0, 0, award.pk)
    with pytest.raises(ValidationError):
        ledger.reverse(actor=None, entry=award, reason="再次冲正")


def test_reversal_refused_when_points_already_spent():
    acc = _account()
    award = ledger.post(actor=None, account=acc, amount=8, kind="award", source="award:1", idempotency_key="k")
    ledger.post(actor=None, account=acc, amount=-5, kind="redemption", source="r:1", idempotency_key="r")
    with pytest.raises(ValidationError):
        ledger.reverse(actor=None, entry=award, reason="录入错误")


def test_reconcile_reports_clean_ledger_and_stable_hash():
    acc = _account()
    for i in range(3):
        ledger.post(actor=None, account=acc, amount=3, kind="award", source=f"award:{i}", idempotency_key=f"k{i}")
    r1, r2 = ledger.reconcile(), ledger.reconcile()
    assert r1["mismatches"] == [] and r1["entries"] == 3 and r1["journal_hash"] == r2["journal_hash"]


ops = st.lists(
    st.tuples(st.sampled_from(["award", "redeem", "reverse"]), st.integers(min_value=1, max_value=50)),
    min_size=1,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_random_sequences_keep_balance_equal_to_sum_and_nonnegative(sequence):
    with transaction.atomic():
        acc = _account()
        entries = []
        for i, (op, n) in enumerate(sequence):
            try:
                if op == "award":
                    entries.append(ledger.post(actor=None, account=acc, amount=n, kind="award", source=f"a{i}",
                                               idempotency_key=f"p{acc.pk}-{i}"))
                elif op == "redeem":
                    ledger.post(actor=None, account=acc, amount=-n, kind="redemption", source=f"r{i}",
                                idempotency_key=f"p{acc.pk}-{i}")
                elif entries:
                    ledger.reverse(actor=None, entry=entries[n % len(entries)], reason="测试冲正")
            except ValidationError:
                pass
            acc.refresh_from_db()
            total = sum(LedgerEntry.objects.filter(account=acc).values_list("amount", flat=True))
            assert acc.balance == total >= 0
        transaction.set_rollback(True)
