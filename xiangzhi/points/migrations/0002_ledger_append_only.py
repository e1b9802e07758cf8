"""Ledger entries and stock moves are append-only: the database refuses UPDATE and DELETE
of rows. (TRUNCATE, a table-owner operation, stays possible so that test databases can be
flushed.)"""

from django.db import migrations

TABLES = ["points_ledgerentry", "points_stockmove"]


def _sqlite(table):
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END;""",
    ]


def _postgres(table):
    return [
        f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION points_append_only();""",
    ]


FORWARD = {
    "sqlite": [s for t in TABLES for s in _sqlite(t)],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION points_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;""",
        *[s for t in TABLES for s in _postgres(t)],
    ],
}
BACKWARD = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {t}_no_update;" for t in TABLES]
    + [f"DROP TRIGGER IF EXISTS {t}_no_delete;" for t in TABLES],
    "postgresql": [f"DROP TRIGGER IF EXISTS {t}_no_change ON {t};" for t in TABLES]
    + ["DROP FUNCTION IF EXISTS points_append_only();"],
}


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql, None)

    return run


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]
    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
