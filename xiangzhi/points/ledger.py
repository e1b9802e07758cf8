"""The points ledger: the only code that changes a balance.

* every change is an append-only ``LedgerEntry`` with ``balance_after``;
* the cached ``Account.balance`` changes in the same transaction, under
  ``select_for_update`` (locks always taken in the order: account, then products by pk);
* CHECK constraints refuse a negative balance or stock even if code were wrong;
* an idempotency key makes a retried posting return the first entry; the same key with a
  different body is a conflict (409);
* corrections are reversal entries only."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from xiangzhi import audit

from .choices import EntryKind
from .models import Account, LedgerEntry


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request (→ 409)."""

    def __init__(self, message: str = "该幂等键已用于另一笔不同的请求"):
        super().__init__(message)
        self.message = message


def lock_account(account_id: int) -> Account:
    return Account.objects.select_for_update().get(pk=account_id)


def _same(entry: LedgerEntry, account_id, amount, kind, source) -> bool:
    return (entry.account_id, entry.amount, entry.kind, entry.source) == (account_id, amount, kind, source)


def post(*, actor, account: Account | int, amount: int, kind: str, source: str, idempotency_key: str,
         note: str = "", reverses: LedgerEntry | None = None, locked: Account | None = None) -> LedgerEntry:
    """Append one entry and move the balance. Must run inside a transaction (it opens one
    when called outside). ``locked``: the account row already locked by the caller."""
    account_id = account if isinstance(account, int) else account.pk
    if amount == 0:
        raise ValidationError({"amount": "分值不能为 0"})
    if kind not in EntryKind.values:
        raise ValidationError({"kind": "流水类型无效"})
    with transaction.atomic():
        acc = locked if locked is not None else lock_account(account_id)
        # checked after the lock: a concurrent twin with this key has committed by now
        existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if _same(existing, account_id, amount, kind, source):
                return existing
            raise IdempotencyConflict()
        new_balance = acc.balance + amount
        if new_balance < 0:
            raise ValidationError({"amount": f"积分余额不足：当前 {acc.balance} 分，需要 {-amount} 分"})
        entry = LedgerEntry.objects.create(
            account_id=account_id,
            area_code=acc.area_code,
            kind=kind,
            amount=amount,
            balance_after=new_balance,
            actor=actor if actor is not None and getattr(actor, "pk", None) else None,
            source=source[:40],
            note=note[:200],
            idempotency_key=idempotency_key[:80],
            reverses=reverses,
            created_at=timezone.now(),
        )
        updates = {"balance": new_balance}
        if kind == EntryKind.AWARD:
            updates["earned_total"] = F("earned_total") + amount
        Account.objects.filter(pk=account_id).update(**updates, updated_at=timezone.now())
        acc.balance = new_balance
        return entry


@transaction.atomic
def reverse(*, actor, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Compensate an entry with an opposite one (the only way to correct the ledger)."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": "请填写冲正原因"})
    if entry.kind == EntryKind.REVERSAL:
        raise ValidationError({"entry": "冲正记录不能再冲正"})
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError({"entry": "该笔流水已冲正"})
    acc = lock_account(entry.account_id)
    result = post(actor=actor, account=entry.account_id, amount=-entry.amount, kind=EntryKind.REVERSAL,
                  source=f"reversal:{entry.pk}", idempotency_key=f"reversal:{entry.pk}", note=reason,
                  reverses=entry, locked=acc)
    if entry.kind == EntryKind.AWARD:
        Account.objects.filter(pk=entry.account_id).update(earned_total=F("earned_total") - entry.amount)
    audit.record(actor, "points.reverse", result, entry_id=entry.pk, amount=-entry.amount, reason=reason[:200])
    return result


def reconcile(*, batch: int = 2000) -> dict:
    """Verify that every balance equals the sum of its entries and the last balance_after;
    return mismatches and a SHA-256 over the whole journal in id order."""
    sums = dict(LedgerEntry.objects.values("account").annotate(s=Sum("amount")).values_list("account", "s"))
    mismatches = []
    for acc in Account.objects.only("id", "balance").iterator(chunk_size=batch):
        total = sums.get(acc.id, 0) or 0
        if total != acc.balance:
            mismatches.append({"account": acc.id, "balance": acc.balance, "sum": total})
    digest = hashlib.sha256()
    last = 0
    count = 0
    while True:
        rows = list(
            LedgerEntry.objects.filter(id__gt=last)
            .order_by("id")
            .values_list("id", "account_id", "kind", "amount", "balance_after", "idempotency_key")[:batch]
        )
        if not rows:
            break
        for row in rows:
            digest.update("|".join(map(str, row)).encode())
            digest.update(b"\n")
        last = rows[-1][0]
        count += len(rows)
    return {"accounts": Account.objects.count(), "entries": count, "mismatches": mismatches,
            "journal_hash": digest.hexdigest()}
