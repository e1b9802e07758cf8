"""The case workflow as an explicit table: (status, action) → new status, plus who may do
it. Services consult it; an action not in the table is a 409 (IllegalTransition)."""

from __future__ import annotations

from dataclasses import dataclass

from .choices import LEVEL_ORDER, Level, Status

S = Status


class IllegalTransition(Exception):
    """Raised for an action the table does not allow in the case's current state (→ 409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Action:
    code: str
    label: str
    permission: str  # cases.<perm>_case
    min_level: str | None = None  # actor must act at this level or above (None: the case's level)


ACTIONS: dict[str, Action] = {
    a.code: a
    for a in [
        Action("accept", "受理", "accept"),
        Action("reject", "不予受理", "accept"),
        Action("transfer", "转办", "accept"),
        Action("assign", "交办（四定）", "assign"),
        Action("start", "开始办理", "handle"),
        Action("resolve", "化解", "handle"),
        Action("fail", "未能化解", "handle"),
        Action("close", "办结", "close"),
        Action("reopen", "重新办理", "close"),
        Action("escalate", "上报上级", "handle"),
        Action("return", "退回下级", "assign"),
        Action("request_extension", "申请延期", "handle"),
        Action("approve_extension", "批准延期", "assign"),
        Action("supervise", "督办", "supervise", min_level=Level.TOWNSHIP),
    ]
}

# (from status, action) → to status. ``None`` as the target keeps the current status.
TRANSITIONS: dict[tuple[str, str], str | None] = {
    (S.REGISTERED, "accept"): S.ACCEPTED,
    (S.REGISTERED, "reject"): S.NOT_ACCEPTED,
    (S.REGISTERED, "transfer"): S.TRANSFERRED,
    (S.REGISTERED, "escalate"): S.REGISTERED,
    (S.REGISTERED, "return"): S.REGISTERED,
    (S.ACCEPTED, "assign"): S.ASSIGNED,
    (S.ACCEPTED, "escalate"): S.ACCEPTED,
    (S.ACCEPTED, "return"): S.ACCEPTED,
    (S.ASSIGNED, "start"): S.IN_PROGRESS,
    (S.ASSIGNED, "escalate"): S.ACCEPTED,
    (S.ASSIGNED, "return"): S.ACCEPTED,
    (S.ASSIGNED, "request_extension"): None,
    (S.ASSIGNED, "approve_extension"): None,
    (S.IN_PROGRESS, "resolve"): S.RESOLVED,
    (S.IN_PROGRESS, "fail"): S.UNRESOLVED,
    (S.IN_PROGRESS, "escalate"): S.ACCEPTED,
    (S.IN_PROGRESS, "return"): S.ACCEPTED,
    (S.IN_PROGRESS, "request_extension"): None,
    (S.IN_PROGRESS, "approve_extension"): None,
    (S.UNRESOLVED, "escalate"): S.ACCEPTED,
    (S.UNRESOLVED, "close"): S.CLOSED,
    (S.UNRESOLVED, "reopen"): S.IN_PROGRESS,
    (S.RESOLVED, "close"): S.CLOSED,
    (S.RESOLVED, "reopen"): S.IN_PROGRESS,
    (S.CLOSED, "reopen"): S.IN_PROGRESS,
}
for _status in (S.REGISTERED, S.ACCEPTED, S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.UNRESOLVED):
    TRANSITIONS[(_status, "supervise")] = None


def target(status: str, action: str) -> str:
    """The status after ``action``; IllegalTransition (Chinese message) if not allowed."""
    if action not in ACTIONS:
        raise IllegalTransition("未知的办理动作")
    key = (status, action)
    if key not in TRANSITIONS:
        raise IllegalTransition(
            f"当前状态“{Status(status).label}”下不能执行“{ACTIONS[action].label}”"
        )
    return TRANSITIONS[key] or status


def allowed_actions(status: str) -> list[str]:
    return [a for (s, a) in TRANSITIONS if s == status]


def level_index(level: str) -> int:
    return LEVEL_ORDER.index(level)


def level_above(level: str) -> str | None:
    i = level_index(level)
    return LEVEL_ORDER[i + 1] if i + 1 < len(LEVEL_ORDER) else None


def level_below(level: str) -> str | None:
    i = level_index(level)
    return LEVEL_ORDER[i - 1] if i > 0 else None
