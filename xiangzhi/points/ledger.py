"""The points ledger: the only code that changes a balance.

* every change is an append-only ``LedgerEntry`` with ``balance_after``;
* the cached ``Account.balance`` changes in the same transaction as its entry, with the
  account row locked until commit — ``select_for_update`` in ``post``, or the conditional
  ``UPDATE … WHERE balance >= amount RETURNING`` of ``debit`` (the counter's redemption);
* CHECK constraints refuse a negative balance or stock even if code were wrong;
* an idempotency key makes a retried posting return the first entry; the same key with a
  different body is a conflict (409);
* corrections are reversal entries only.

Lock order, the same in every transaction that takes more than one of these, so that two
transactions never wait for each other in a cycle:

1. the idempotency key (a redemption's unique key: a concurrent twin waits here, holding
   nothing else);
2. the account row (one account per transaction);
3. product rows, in ascending pk order (one ``UPDATE`` per product; a redemption takes
   them last, so that the hot rows are held only for their update, the stock moves and
   the commit);
4. the audit chain (``audit.record``): a try-lock that takes any free chain and never
   waits, so it cannot close a cycle (ADR 0008).

``stock_in`` locks one product; ``redemption_cancel`` locks the redemption row first
(before 2), then the account, then its products in pk order."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import prepared

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


_DEBIT_PG = (
    "WITH a AS (UPDATE points_account SET balance = balance - %s, updated_at = %s"
    " WHERE id = %s AND balance >= %s RETURNING id, area_code, balance)"
    " INSERT INTO points_ledgerentry (account_id, area_code, kind, amount, balance_after, actor_id, source, note,"
    " idempotency_key, reverses_id, created_at)"
    " SELECT id, area_code, %s::varchar, %s::integer, balance, %s::bigint, %s::varchar, %s::varchar, %s::varchar,"
    " NULL, %s::timestamptz FROM a RETURNING id, balance_after"
)
_DEBIT_ACCOUNT = (
    "UPDATE points_account SET balance = balance - %s, updated_at = %s WHERE id = %s AND balance >= %s"
    " RETURNING area_code, balance"
)
_INSERT_ENTRY = (
    "INSERT INTO points_ledgerentry (account_id, area_code, kind, amount, balance_after, actor_id, source, note,"
    " idempotency_key, reverses_id, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, %s) RETURNING id"
)


def debit(*, actor_id: int | None, account_id: int, amount: int, kind: str, source: str, idempotency_key: str,
          note: str, now, cursor=None) -> tuple[int, int] | None:
    """Take ``amount`` (> 0) from an account only if its balance covers it, and append the
    entry: ``UPDATE … SET balance = balance - amount WHERE id = … AND balance >= amount
    RETURNING`` plus the entry's ``INSERT`` (one statement on PostgreSQL). Returns
    (entry id, balance after), or None when the balance does not cover it — then nothing
    was written. Runs in the caller's transaction, which holds the account row until it
    ends; the caller checks the idempotency key (a redemption's own unique key).
    ``cursor``: the caller's (a ``core.prepared`` cursor), else one of its own."""
    if amount <= 0 or kind not in EntryKind.values:
        raise ValueError("debit: amount > 0 and a ledger kind")
    if cursor is None:
        with prepared.cursor() as cur:
            return _debit(cur, actor_id, account_id, amount, kind, source, idempotency_key, note, now)
    return _debit(cursor, actor_id, account_id, amount, kind, source, idempotency_key, note, now)


def _debit(cur, actor_id, account_id, amount, kind, source, idempotency_key, note, now):
    at = connection.ops.adapt_datetimefield_value(now)
    if connection.vendor == "postgresql":
        cur.execute(_DEBIT_PG, [amount, at, account_id, amount, kind, -amount, actor_id, source[:40], note[:200],
                                idempotency_key[:80], at])  # fmt: skip
        row = cur.fetchone()
        return (row[0], row[1]) if row else None
    cur.execute(_DEBIT_ACCOUNT, [amount, at, account_id, amount])
    row = cur.fetchone()
    if row is None:
        return None
    area_code, balance = row
    cur.execute(_INSERT_ENTRY, [account_id, area_code, kind, -amount, balance, actor_id, source[:40], note[:200],
                                idempotency_key[:80], at])  # fmt: skip
    return cur.fetchone()[0], balance


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
