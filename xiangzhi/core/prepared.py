"""Prepared statements for a few hot write paths (the audit append, the counter's redemption).

Django's PostgreSQL connections bind parameters on the client and never prepare (each
statement is parsed and planned again). ``cursor()`` returns a Django cursor (error
translation, query logging, execute wrappers — all as usual) over a server-binding psycopg
cursor on the same connection and transaction whose statements are prepared once per
connection: PostgreSQL then skips parse and plan, which is about half the server time of a
short insert or conditional update. On SQLite it is Django's ordinary cursor. Django's own
(client-binding) cursors never prepare, whatever the connection's threshold; psycopg
forgets the prepared statements at each rollback and prepares them again when next used.

Write the SQL with explicit casts where a parameter's type cannot be inferred from a
column (a ``SELECT`` list, ``VALUES`` outside an ``INSERT``): server-side binding sends
parameters untyped. Prepared statements need a session per connection, i.e. not a
transaction-pooling proxy in front of PostgreSQL (see docs/deploy.md).
"""

from __future__ import annotations

from django.db import connections
from django.db.backends.utils import CursorDebugWrapper

_cursor_class = None
_NEVER_BY_ITSELF = 2**31 - 1  # psycopg's automatic preparing stays off: a statement is prepared when asked


def _preparing_cursor_class():
    global _cursor_class
    if _cursor_class is None:
        import psycopg

        class PreparingCursor(psycopg.Cursor):
            def execute(self, query, params=None, *, prepare=None, binary=None):
                return super().execute(query, params, prepare=True, binary=binary)

        _cursor_class = PreparingCursor
    return _cursor_class


def cursor(using: str = "default"):
    conn = connections[using]
    if conn.vendor != "postgresql":
        return conn.cursor()
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    raw = conn.connection
    if raw.prepare_threshold is None:  # Django turns preparing off; only these cursors ask for it
        raw.prepare_threshold = _NEVER_BY_ITSELF
    with conn.wrap_database_errors:
        cur = _preparing_cursor_class()(raw)
    conn.validate_thread_sharing()
    return _DebugWrapper(cur, conn) if conn.queries_logged else conn.make_cursor(cur)


class _DebugWrapper(CursorDebugWrapper):
    """Logs the statement with its parameters (Django reads it back from a client-binding
    cursor, which this is not)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params) if params else sql):
            return super(CursorDebugWrapper, self).execute(sql, params)
