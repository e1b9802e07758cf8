"""The audit log as parallel hash chains (ADR 0008): each chain verifies on its own, tampering
anywhere but at a chain's tail is found, rows from before the chains verify as chain 0, and
on PostgreSQL an append never waits for another transaction's chain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from xiangzhi import audit
from xiangzhi.audit.models import AuditEvent
from xiangzhi.audit.services import _PG_LOCK_KEY, CHAINS, GENESIS, preferred_chain, verify_chain

ROOT = Path(__file__).resolve().parents[3]


def _many(n: int = 40) -> list[AuditEvent]:
    return [audit.record(None, "test.many", ("test.thing", i % 13), i=i) for i in range(n)]


def _unprotect(cur) -> None:
    """Bypass the append-only triggers inside this test's transaction, as an attacker with
    database access would."""
    if connection.vendor == "sqlite":
        cur.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        cur.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    else:
        cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")


@pytest.mark.django_db
class TestParallelChains:
    def test_events_spread_over_chains_and_all_verify(self):
        events = _many()
        chains = {e.chain for e in events}
        assert len(chains) > 5 and all(0 <= c < CHAINS for c in chains)
        for e in events:  # each row links to the previous row of its own chain
            prev = (AuditEvent.objects.filter(chain=e.chain, id__lt=e.pk).order_by("-id")
                    .values_list("hash", flat=True).first())  # fmt: skip
            assert e.prev_hash == (prev or GENESIS)
        assert verify_chain() == (True, AuditEvent.objects.count(), None)

    def test_the_chain_follows_the_object_else_the_actor(self):
        a = audit.record(None, "test.obj", ("test.thing", 5))
        b = audit.record(None, "test.obj", ("test.thing", 5), again=True)
        assert a.chain == b.chain == preferred_chain("test.thing", "5", None) and b.prev_hash == a.hash
        assert preferred_chain("", "", None) == 0
        assert preferred_chain("", "", 42) == zlib.crc32(b"user:42") % CHAINS

    @pytest.mark.parametrize("how", ["edit", "delete", "move", "rehash"])
    def test_tampering_inside_a_chain_is_found(self, how):
        events = _many()
        victim = next(e for e in events[5:] if any(o.chain == e.chain and o.pk > e.pk for o in events))
        nxt = min((o for o in events if o.chain == victim.chain and o.pk > victim.pk), key=lambda o: o.pk)
        with connection.cursor() as cur:
            _unprotect(cur)
            if how == "edit":
                cur.execute("UPDATE audit_auditevent SET actor_name = 'someone_else' WHERE id = %s", [victim.pk])
                bad = victim.pk
            elif how == "delete":
                cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
                bad = nxt.pk  # its successor no longer links
            elif how == "move":
                cur.execute("UPDATE audit_auditevent SET chain = %s WHERE id = %s",
                            [(victim.chain + 1) % CHAINS, victim.pk])  # fmt: skip
                bad = nxt.pk  # at the latest its old successor no longer links
            else:  # rewrite the row and recompute its own hash: the successor's prev_hash betrays it
                from xiangzhi.audit.services import compute_hash

                fields = {f: getattr(victim, f) for f in ("at", "actor_id", "actor_name", "action", "object_type",
                                                           "object_id", "area_code", "ip", "result")}  # fmt: skip
                new_hash = compute_hash(victim.prev_hash, **{**fields, "details": {"i": -1}})
                cur.execute("UPDATE audit_auditevent SET details = %s, hash = %s WHERE id = %s",
                            ['{"i":-1}', new_hash, victim.pk])  # fmt: skip
                bad = nxt.pk
        ok, checked, first_bad = verify_chain()
        assert not ok
        assert first_bad == bad if how != "move" else victim.pk <= first_bad <= bad

    def test_removing_a_chains_tail_is_not_detectable(self):
        """As with one chain, the newest row of a chain can be removed without a trace (the
        limit of any hash chain; the daily verify run and backups bound it)."""
        events = _many()
        tail = max((e for e in events if e.chain == events[0].chain), key=lambda e: e.pk)
        with connection.cursor() as cur:
            _unprotect(cur)
            cur.execute("DELETE FROM audit_auditevent WHERE id = %s", [tail.pk])
        assert verify_chain()[0]


def test_rows_from_before_the_chains_verify_after_migrating(tmp_path):
    """Migrate a database to audit 0002, write a single chain the old way, migrate to the
    chains: old rows are chain 0 and verify, new rows chain in parallel, the append-only
    triggers survive (SQLite remakes the table), and so after migrating back."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="xiangzhi.settings_test", PYTHONPATH=str(ROOT))
    scratch = None
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        import psycopg

        db = settings.DATABASES["default"]
        scratch = f"{db['NAME']}_chains"[:63]
        auth = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
        with psycopg.connect(f"{auth}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
            conn.execute(f'CREATE DATABASE "{scratch}"')
        env["DATABASE_URL"] = f"{auth}/{scratch}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'chains.sqlite3'}"
    try:
        proc = subprocess.run([sys.executable, "-c", MIGRATION_SCRIPT], cwd=ROOT, env=env, text=True,
                              capture_output=True, timeout=300, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        if scratch:
            with psycopg.connect(f"{auth}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    assert out["old_chains"] == [0]
    assert out["verify_after"] == [True, 60, None]
    assert out["new_chains"] > 5
    assert out["update_refused"] and out["delete_refused"]
    assert out["tampered"][0] is False
    assert out["back"]["rows"] == 60 and out["back"]["update_refused"] and out["back"]["delete_refused"]


MIGRATION_SCRIPT = r"""
import json, django
django.setup()
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

call_command("migrate", "audit", "0002", verbosity=0)
from xiangzhi import audit
from xiangzhi.audit.services import GENESIS, compute_hash, verify_chain

prev = GENESIS
with connection.cursor() as cur:
    for i in range(30):  # the old single chain: each row links to the previous row by id
        fields = dict(at=timezone.now(), actor_id=None, actor_name="old", action="test.old", object_type="test.thing",
                      object_id=str(i % 7), area_code="", ip="", result="ok", details={"i": i, "名": "旧"})
        h = compute_hash(prev, **fields)
        cur.execute(
            "INSERT INTO audit_auditevent (at, actor_id, actor_name, action, object_type, object_id, area_code, ip,"
            " result, details, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [connection.ops.adapt_datetimefield_value(fields["at"]), None, "old", "test.old", "test.thing",
             fields["object_id"], "", "", "ok", json.dumps(fields["details"], ensure_ascii=False), prev, h])
        prev = h
call_command("migrate", "audit", verbosity=0)
from xiangzhi.audit.models import AuditEvent

old_chains = sorted(set(AuditEvent.objects.filter(action="test.old").values_list("chain", flat=True)))
for i in range(30):
    audit.record(None, "test.new", ("test.thing", i))
out = {"old_chains": old_chains, "verify_after": list(verify_chain()),
       "new_chains": len(set(AuditEvent.objects.filter(action="test.new").values_list("chain", flat=True)))}


def refused(sql):
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    except DatabaseError:
        return True
    return False


out["update_refused"] = refused("UPDATE audit_auditevent SET actor_name = 'x'")
out["delete_refused"] = refused("DELETE FROM audit_auditevent")
with transaction.atomic():
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("DROP TRIGGER audit_event_no_update")
        else:
            cur.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cur.execute("UPDATE audit_auditevent SET actor_name = 'x' WHERE id = (SELECT MIN(id) + 3 FROM audit_auditevent)")
    out["tampered"] = list(verify_chain())
    transaction.set_rollback(True)
call_command("migrate", "audit", "0002", verbosity=0)
out["back"] = {"rows": AuditEvent.objects.count(), "update_refused": refused("UPDATE audit_auditevent SET ip = 'x'"),
               "delete_refused": refused("DELETE FROM audit_auditevent")}
print(json.dumps(out))
"""


# --- PostgreSQL: real connections ------------------------------------------------------------


def _in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_append_never_waits_for_another_transactions_chain(pg_only):
    """One transaction appends and keeps its chain locked (it has not committed); appends on
    another object and on the very same object complete at once, on other chains."""
    holding, release = threading.Event(), threading.Event()
    held = {}

    @_in_thread
    def holder():
        with transaction.atomic():
            event = audit.record(None, "test.hold", ("test.thing", 1))
            held["chain"] = event.chain
            holding.set()
            release.wait(30)

    @_in_thread
    def other(obj):
        start = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET LOCAL lock_timeout = '5s'")  # a wait would fail the test, not hang it
            event = audit.record(None, "test.other", obj)
        return event.chain, time.monotonic() - start

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic(), connection.cursor() as cur:  # the holder's chain is really locked
            cur.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_PG_LOCK_KEY, held["chain"]])
            assert cur.fetchone()[0] is False
        other_object = next(("test.thing", i) for i in range(2, 200)
                            if preferred_chain("test.thing", str(i), None) != held["chain"])  # fmt: skip
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(other, [other_object, ("test.thing", 1)]))
        assert not release.is_set()  # both finished while the holder still held its chain
        (chain_a, secs_a), (chain_b, secs_b) = results
        assert chain_a == preferred_chain(*map(str, other_object), None)
        assert chain_b not in (held["chain"],) and secs_a < 2 and secs_b < 2
    finally:
        release.set()
        thread.join(30)
    assert verify_chain() == (True, 3, None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_many_connections_keep_every_chain_intact(pg_only):
    @_in_thread
    def work(t):
        for k in range(40):
            with transaction.atomic():
                audit.record(None, "test.burst", ("test.hot", k % 3), t=t, k=k)  # few objects: many collisions
                if k % 5 == 0:
                    audit.record(None, "test.burst.second", ("test.hot", 99), t=t, k=k)  # two events, one transaction

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert AuditEvent.objects.count() == 8 * 40 + 8 * 8
    assert verify_chain() == (True, 8 * 48, None)
    assert AuditEvent.objects.values("chain").distinct().count() > 3
