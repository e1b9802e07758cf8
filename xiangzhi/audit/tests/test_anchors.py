"""The chains' newest rows, anchored outside the database: deleting the tail of a chain —
which the hash chains alone cannot see — is caught by verify_audit_chain."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from xiangzhi import audit
from xiangzhi.audit.models import AuditEvent
from xiangzhi.audit.services import verify_chain
from xiangzhi.core.periodic import JOBS

from .test_chains import _unprotect

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchors(tmp_path, settings):
    settings.AUDIT_ANCHOR_FILE = tmp_path / "anchors.jsonl"
    return settings.AUDIT_ANCHOR_FILE


def _events(n=30):
    return [audit.record(None, "test.anchor", ("test.thing", i % 7), i=i) for i in range(n)]


def test_anchor_lists_each_chain_tail(anchors):
    events = _events()
    call_command("anchor_audit_chain")
    line = json.loads(anchors.read_text().strip().splitlines()[-1])
    newest = {}
    for e in events:
        newest[e.chain] = e
    for chain, e in newest.items():
        assert line["tails"][str(chain)] == [e.pk, e.hash]
    call_command("verify_audit_chain")  # intact log, intact anchor


def test_deleted_chain_tail_is_caught(anchors):
    events = _events()
    call_command("anchor_audit_chain")
    tail = max(events, key=lambda e: e.pk)
    with connection.cursor() as cur:
        _unprotect(cur)
        cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [tail.pk])
    assert verify_chain()[0]  # the chains alone cannot tell a missing tail
    with pytest.raises(CommandError, match=f"第 {tail.pk} 号记录.*已不存在"):
        call_command("verify_audit_chain")
    with pytest.raises(CommandError, match="审计锚点核对失败"):  # no new anchor over the evidence
        call_command("anchor_audit_chain")
    assert len(anchors.read_text().strip().splitlines()) == 1


def test_no_anchor_file_yet_is_not_an_error(anchors):
    _events(3)
    call_command("verify_audit_chain")
    assert not anchors.exists()
    assert AuditEvent.objects.count() >= 3


def test_the_worker_loop_anchors_hourly():
    assert ("anchor_audit_chain", 3600) in JOBS
