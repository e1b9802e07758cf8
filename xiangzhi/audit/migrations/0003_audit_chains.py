"""Parallel hash chains (ADR 0008): ``AuditEvent.chain`` and the (chain, id) index that finds a
chain's tail.

Existing rows become chain 0 and stay valid: they were one chain in id order, which is what
chain 0 is. The column has no database default, so an application process still running
the code from before this migration cannot append (its insert fails, and with it the audited
action) instead of appending to chain 0 against the wrong tail: restart every process with
the migration.

On SQLite, adding a NOT NULL column remakes the table, which drops its triggers; the
append-only triggers of ``0002_append_only_triggers`` are created again right after (and,
when migrating backwards, after the column is removed). On PostgreSQL the column is added in
place and the triggers stay.
"""

from django.db import migrations, models

SQLITE_TRIGGERS = [
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
       BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
]


def sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]

    operations = [
        # backwards: runs last, after the column is removed (another table remake)
        migrations.RunPython(migrations.RunPython.noop, sqlite_triggers),
        migrations.AddField(
            model_name="auditevent",
            name="chain",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="链"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["chain", "id"], name="audit_chain_id"),
        ),
        migrations.RunPython(sqlite_triggers, migrations.RunPython.noop),
    ]
