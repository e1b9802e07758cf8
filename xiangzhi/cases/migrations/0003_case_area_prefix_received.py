"""Indexes for the history part of the work bench's list (selectors.OpenThenEnded): ended
cases of a county / township / village newest first. Each leads with the area's code
prefix as an expression, so ``SUBSTR(area_code, 1, 9) = '341524111' ORDER BY received_at
DESC, id DESC LIMIT 21`` walks 21 index entries instead of sorting the township's every
case (a grid, the longest code, uses case_area_received). The query must write the same
expression with a literal length (selectors.AreaPrefix).

Raw SQL (the same on SQLite and PostgreSQL), not in the model's Meta: the model state does
not know these indexes, so a later migration that remakes cases_case on SQLite (an altered
column) drops them — re-create them there (test_query_plans fails if they are missing)."""

from django.db import migrations

LENGTHS = (6, 9, 12)

CREATE = [
    f"CREATE INDEX IF NOT EXISTS case_area{n}_received ON cases_case (substr(area_code, 1, {n}), received_at, id);"
    for n in LENGTHS
]
DROP = [f"DROP INDEX IF EXISTS case_area{n}_received;" for n in LENGTHS]


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_status_area_due_index")]
    operations = [migrations.RunSQL(CREATE, DROP)]
