"""audit.record and the hash chain."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from xiangzhi import audit
from xiangzhi.audit.models import AuditEvent
from xiangzhi.audit.services import GENESIS, AuditWriteError, verify_chain
from xiangzhi.core.testing import VILLAGE_A, make_user

pytestmark = pytest.mark.django_db


def test_events_chain_and_verify():
    user = make_user("actor", "village_secretary", VILLAGE_A)
    first = audit.record(user, "test.one", user, note="流波䃥")
    second = audit.record(None, "test.two", username="ghost")
    assert first.prev_hash == GENESIS or AuditEvent.objects.filter(hash=first.prev_hash).exists()
    assert second.prev_hash == first.hash
    assert first.actor_name == "actor" and first.area_code == VILLAGE_A  # area taken from the object
    assert second.actor_name == "ghost" and second.area_code == ""
    assert AuditEvent.objects.get(pk=first.pk).details == {"note": "流波䃥"}
    assert verify_chain() == (True, AuditEvent.objects.count(), None)


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
