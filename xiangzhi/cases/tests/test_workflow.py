"""The transition table: every (status, action) pair is either legal with a known target
or refused with a Chinese message."""

import itertools

import pytest

from xiangzhi.cases.choices import Status
from xiangzhi.cases.workflow import ACTIONS, TRANSITIONS, IllegalTransition, allowed_actions, target

LEGAL = {
    ("registered", "accept"): "accepted",
    ("registered", "reject"): "not_accepted",
    ("registered", "transfer"): "transferred",
    ("registered", "escalate"): "registered",
    ("registered", "return"): "registered",
    ("registered", "supervise"): "registered",
    ("accepted", "assign"): "assigned",
    ("accepted", "escalate"): "accepted",
    ("accepted", "return"): "accepted",
    ("accepted", "supervise"): "accepted",
    ("assigned", "start"): "in_progress",
    ("assigned", "escalate"): "accepted",
    ("assigned", "return"): "accepted",
    ("assigned", "request_extension"): "assigned",
    ("assigned", "approve_extension"): "assigned",
    ("assigned", "supervise"): "assigned",
    ("in_progress", "resolve"): "resolved",
    ("in_progress", "fail"): "unresolved",
    ("in_progress", "escalate"): "accepted",
    ("in_progress", "return"): "accepted",
    ("in_progress", "request_extension"): "in_progress",
    ("in_progress", "approve_extension"): "in_progress",
    ("in_progress", "supervise"): "in_progress",
    ("resolved", "close"): "closed",
    ("resolved", "reopen"): "in_progress",
    ("resolved", "supervise"): "resolved",
    ("unresolved", "close"): "closed",
    ("unresolved", "reopen"): "in_progress",
    ("unresolved", "escalate"): "accepted",
    ("unresolved", "supervise"): "unresolved",
    ("closed", "reopen"): "in_progress",
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status.values, ACTIONS)))
def test_every_pair_is_legal_or_refused(status, action):
    if (status, action) in LEGAL:
        assert target(status, action) == LEGAL[(status, action)]
    else:
        with pytest.raises(IllegalTransition) as exc:
            target(status, action)
        assert "不能执行" in exc.value.message


def test_table_has_no_moves_the_test_does_not_know():
    assert {k: (v or k[0]) for k, v in TRANSITIONS.items()} == LEGAL


def test_ended_cases_only_reopen():
    assert allowed_actions("closed") == ["reopen"]
    assert allowed_actions("not_accepted") == []
    assert allowed_actions("transferred") == []
