# ruff: noqa: S608 - the SQL is built from constants in this file only
"""Triggers that keep ``User.scope_stamp`` and ``User.unread_messages`` true whatever code
path writes (services, bulk loaders, the admin shell): the page shell reads both from the
user row instead of querying assignments and messages on every request."""

from django.db import migrations

SQLITE_STAMP = "lower(hex(randomblob(8)))"
SQLITE = [
    # a user's assignments changed → that user's scope caches are stale
    f"""CREATE TRIGGER IF NOT EXISTS user_stamp_assignment_ins AFTER INSERT ON org_assignment
       BEGIN UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE id = NEW.user_id; END;""",
    f"""CREATE TRIGGER IF NOT EXISTS user_stamp_assignment_upd AFTER UPDATE ON org_assignment
       BEGIN UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE id IN (OLD.user_id, NEW.user_id); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS user_stamp_assignment_del AFTER DELETE ON org_assignment
       BEGIN UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE id = OLD.user_id; END;""",
    # a region appeared, disappeared or changed name/level/state → every filter list may change
    f"""CREATE TRIGGER IF NOT EXISTS user_stamp_region_ins AFTER INSERT ON org_region
       BEGIN UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE scope_stamp != ''; END;""",
    f"""CREATE TRIGGER IF NOT EXISTS user_stamp_region_upd AFTER UPDATE ON org_region
       WHEN OLD.code IS NOT NEW.code OR OLD.name IS NOT NEW.name OR OLD.level IS NOT NEW.level
            OR OLD.is_active IS NOT NEW.is_active
       BEGIN UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE scope_stamp != ''; END;""",
    f"""CREATE TRIGGER IF NOT EXISTS user_stamp_region_del AFTER DELETE ON org_region
       BEGIN UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE scope_stamp != ''; END;""",
    # unread in-app messages
    """CREATE TRIGGER IF NOT EXISTS user_unread_ins AFTER INSERT ON notifications_message WHEN NEW.read_at IS NULL
       BEGIN UPDATE accounts_user SET unread_messages = unread_messages + 1 WHERE id = NEW.user_id; END;""",
    """CREATE TRIGGER IF NOT EXISTS user_unread_upd AFTER UPDATE OF read_at, user_id ON notifications_message
       BEGIN
         UPDATE accounts_user SET unread_messages = unread_messages - 1 WHERE id = OLD.user_id AND OLD.read_at IS NULL;
         UPDATE accounts_user SET unread_messages = unread_messages + 1 WHERE id = NEW.user_id AND NEW.read_at IS NULL;
       END;""",
    """CREATE TRIGGER IF NOT EXISTS user_unread_del AFTER DELETE ON notifications_message WHEN OLD.read_at IS NULL
       BEGIN UPDATE accounts_user SET unread_messages = unread_messages - 1 WHERE id = OLD.user_id; END;""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name};"
    for name in (
        "user_stamp_assignment_ins", "user_stamp_assignment_upd", "user_stamp_assignment_del",
        "user_stamp_region_ins", "user_stamp_region_upd", "user_stamp_region_del",
        "user_unread_ins", "user_unread_upd", "user_unread_del",
    )
]

PG_STAMP = "substr(md5(random()::text || clock_timestamp()::text), 1, 16)"
POSTGRES = [
    f"""CREATE OR REPLACE FUNCTION user_stamp_assignment() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN UPDATE accounts_user SET scope_stamp = {PG_STAMP} WHERE id = OLD.user_id; END IF;
         IF TG_OP <> 'DELETE' THEN UPDATE accounts_user SET scope_stamp = {PG_STAMP} WHERE id = NEW.user_id; END IF;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER user_stamp_assignment AFTER INSERT OR UPDATE OR DELETE ON org_assignment
       FOR EACH ROW EXECUTE FUNCTION user_stamp_assignment();""",
    f"""CREATE OR REPLACE FUNCTION user_stamp_region() RETURNS trigger AS $$
       BEGIN UPDATE accounts_user SET scope_stamp = {PG_STAMP} WHERE scope_stamp <> ''; RETURN NULL; END;
       $$ LANGUAGE plpgsql;""",
    # once per statement: a bulk import of regions re-stamps the users once, not per row
    """CREATE TRIGGER user_stamp_region AFTER INSERT OR UPDATE OF code, name, level, is_active OR DELETE
       ON org_region FOR EACH STATEMENT EXECUTE FUNCTION user_stamp_region();""",
    """CREATE OR REPLACE FUNCTION user_unread() RETURNS trigger AS $$
       BEGIN
         IF TG_OP <> 'INSERT' AND OLD.read_at IS NULL THEN
           UPDATE accounts_user SET unread_messages = unread_messages - 1 WHERE id = OLD.user_id;
         END IF;
         IF TG_OP <> 'DELETE' AND NEW.read_at IS NULL THEN
           UPDATE accounts_user SET unread_messages = unread_messages + 1 WHERE id = NEW.user_id;
         END IF;
         RETURN NULL;
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER user_unread AFTER INSERT OR UPDATE OF read_at, user_id OR DELETE ON notifications_message
       FOR EACH ROW EXECUTE FUNCTION user_unread();""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS user_stamp_assignment ON org_assignment;",
    "DROP TRIGGER IF EXISTS user_stamp_region ON org_region;",
    "DROP TRIGGER IF EXISTS user_unread ON notifications_message;",
    "DROP FUNCTION IF EXISTS user_stamp_assignment();",
    "DROP FUNCTION IF EXISTS user_stamp_region();",
    "DROP FUNCTION IF EXISTS user_unread();",
]

BACKFILL = {
    "sqlite": [
        f"UPDATE accounts_user SET scope_stamp = {SQLITE_STAMP} WHERE id IN (SELECT user_id FROM org_assignment);",
        """UPDATE accounts_user SET unread_messages = (SELECT COUNT(*) FROM notifications_message m
           WHERE m.user_id = accounts_user.id AND m.read_at IS NULL);""",
    ],
    "postgresql": [
        f"UPDATE accounts_user SET scope_stamp = {PG_STAMP} WHERE id IN (SELECT user_id FROM org_assignment);",
        """UPDATE accounts_user SET unread_messages = (SELECT COUNT(*) FROM notifications_message m
           WHERE m.user_id = accounts_user.id AND m.read_at IS NULL);""",
    ],
}


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_scope_stamp_unread"),
        ("org", "0001_initial"),
        ("notifications", "0001_initial"),
    ]
    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE + BACKFILL["sqlite"], "postgresql": POSTGRES + BACKFILL["postgresql"]}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
