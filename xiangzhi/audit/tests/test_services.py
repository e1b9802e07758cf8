"""audit.record and the hash chain."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from xiangzhi import audit
from xiangzhi.audit.models import AuditEvent
from xiangzhi.audit.services import GENESIS, AuditWriteError, preferred_chain, verify_chain
from xiangzhi.core.testing import VILLAGE_A, make_user

pytestmark = pytest.mark.django_db


def _tail(chain: int, before: int) -> str:
    last = AuditEvent.objects.filter(chain=chain, id__lt=before).order_by("-id").values_list("hash", flat=True).first()
    return last or GENESIS


def test_events_chain_and_verify():
    user = make_user("actor", "village_secretary", VILLAGE_A)
    first = audit.record(user, "test.one", user, note="流波䃥")
    second = audit.record(None, "test.two", username="ghost")
    third = audit.record(user, "test.three", user)
    assert first.chain == third.chain == preferred_chain("accounts.user", str(user.pk), user.pk)
    assert second.chain == 0  # no object, no actor
    assert first.prev_hash == _tail(first.chain, first.pk)
    assert second.prev_hash == _tail(0, second.pk)
    assert third.prev_hash == first.hash  # the previous row of its own chain
    assert first.actor_name == "actor" and first.area_code == VILLAGE_A  # area taken from the object
    assert second.actor_name == "ghost" and second.area_code == ""
    assert AuditEvent.objects.get(pk=first.pk).details == {"note": "流波䃥"}
    assert verify_chain() == (True, AuditEvent.objects.count(), None)


def test_details_are_stored_as_plain_json_and_hash_the_same_after_reading():
    from datetime import date
    from decimal import Decimal

    event = audit.record(None, "test.types", ("test.thing", 7), when=date(2026, 1, 2), amount=Decimal("1.50"),
                         pair=(1, 2), nested={"b": [1, None, True], "a": "乙"}, by_number={10: "x", 9: "y"})
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.details == event.details == {
        "when": "2026-01-02", "amount": "1.50", "pair": [1, 2], "nested": {"b": [1, None, True], "a": "乙"},
        "by_number": {"10": "x", "9": "y"},
    }
    assert (stored.chain, stored.prev_hash, stored.hash) == (event.chain, event.prev_hash, event.hash)
    assert verify_chain()[0]


def test_rows_are_append_only():
    event = audit.record(None, "test.one")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="test.changed")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.one"


def test_unwritable_event_aborts_the_audited_action(monkeypatch):
    user = make_user("actor")

    def disk_full(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(AuditEvent, "save", disk_full)
    with pytest.raises(AuditWriteError), transaction.atomic():
        user.full_name = "改过"
        user.save()
        audit.record(user, "test.one")
    user.refresh_from_db()
    assert user.full_name == ""


def test_a_refused_audit_insert_rolls_back_the_whole_transaction(monkeypatch):
    """Inside the caller's transaction there is no savepoint: a statement the database
    refuses marks the caller's atomic block for rollback, whatever the caller does next."""
    from xiangzhi.audit.models import AuditEvent as Model

    user = make_user("actor")
    monkeypatch.setattr("xiangzhi.audit.models.APPEND", "INSERT INTO audit_auditevent (nope) VALUES (%s)")
    monkeypatch.setattr("xiangzhi.audit.models.APPEND_PG", "INSERT INTO audit_auditevent (nope) VALUES (%s)")
    with transaction.atomic():
        user.full_name = "改过"
        user.save()
        with pytest.raises(AuditWriteError):
            audit.record(user, "test.one")
        assert transaction.get_rollback()
    monkeypatch.undo()
    user.refresh_from_db()
    assert user.full_name == "" and not Model.objects.filter(action="test.one").exists()


def test_append_only_triggers_exist_after_all_migrations():
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_auditevent'")
            assert {r[0] for r in cur.fetchall()} == {"audit_event_no_update", "audit_event_no_delete"}
        else:
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass AND NOT tgisinternal")
            assert {r[0] for r in cur.fetchall()} == {"audit_event_no_change"}
