"""Portable SQL pieces the ORM lacks on Django 5.2 (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from django.db.models import Aggregate, CharField, Value


class Concat(Aggregate):
    """Concatenation of a text column over the group, in no particular order
    (``group_concat`` on SQLite, ``string_agg`` on PostgreSQL). For set-like values such as
    the registry's ``,tag,`` lists, where order does not matter."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def __init__(self, expression, separator: str = ",", **extra):
        super().__init__(expression, Value(separator), **extra)

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="STRING_AGG", **extra_context)
