"""红黑榜 drafts from the period's awards: an honour-rule award twice outside the top N is one
entry (no duplicate), and the draft's query count does not grow with the number of people
on it (benchmarks/points.py: a village month at 5M entries)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xiangzhi.core.testing import VILLAGE_A, make_household
from xiangzhi.points import services
from xiangzhi.points.accounts import account_for_household

from . import viewdata

pytestmark = pytest.mark.django_db


def posted(cast, account, code, book):
    award = services.award_propose(actor=cast.secretary_a, account=account, rule=viewdata.rule(book, code),
                                   occurred_on=viewdata.TODAY, reason="核实属实")  # fmt: skip
    services.award_review(actor=cast.secretary_a, award=award, approve=True)
    award.refresh_from_db()
    services.post_due_awards(now=award.publicity_until)
    return award


def test_two_honour_awards_beyond_the_top_n_make_one_entry(cast):
    world = viewdata.build(cast)
    for _ in range(2):
        posted(cast, world.acc_a2, "XL01", world.book)  # 孝老爱亲 feeds the honour roll
    board = services.list_generate(actor=cast.secretary_a, village_code=VILLAGE_A, period_kind="quarter",
                                   period_start=viewdata.TODAY.replace(day=1), top_n=0)  # fmt: skip
    honor = list(board.entries.filter(side="honor").values_list("account_id", "points", "rank"))
    assert honor == [(world.acc_a2.pk, 10, 1)]
    evidence = board.entries.get(side="honor").evidence
    assert [e["rule"] for e in evidence] == ["XL01", "XL01"]


def test_draft_queries_do_not_grow_with_the_list(cast):
    world = viewdata.build(cast)

    def draft():
        with CaptureQueriesContext(connection) as q:
            board = services.list_generate(actor=cast.secretary_a, village_code=VILLAGE_A, period_kind="quarter",
                                           period_start=viewdata.TODAY.replace(day=1))  # fmt: skip
        return len(q.captured_queries), board.entries.count()

    draft()  # creates the board
    few, entries_before = draft()
    for i in range(6):
        h = make_household(cast.grid_a1.code, f"新户{i}", number=f"N-{i}")
        posted(cast, account_for_household(h), "XL01", world.book)
    many, entries_after = draft()
    assert entries_after >= entries_before + 6
    assert many == few
