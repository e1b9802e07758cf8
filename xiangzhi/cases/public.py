"""What a party to a case — and the public tracking page — may see of its timeline.

Rules (docs: issue 3, "public tracking leaks nothing"):

* only events marked ``public`` (internal steps — extension requests, supervision marks,
  skip-level records, attachments — are never shown);
* each event is a fixed plain-language sentence built from the action and structured
  data; staff's free-text notes are **not** shown (they may name other parties);
* who acted is a role label (``村党组织书记``, ``网格员``), never a person's name.

Also the action labels staff see on the full timeline.
"""

from __future__ import annotations

from xiangzhi.org.models import Assignment
from xiangzhi.org.roles import ROLES

from . import selectors
from .choices import Channel, Level, MediationResult, MeetingKind, Status
from .workflow import ACTIONS, level_index

# Labels for recorded steps that are not workflow transitions.
RECORD_LABELS = {
    "register": "登记",
    "meeting": "会议",
    "mediation": "调解",
    "follow_up": "回访",
    "skip_level": "越级访记录",
    "attachment": "上传附件",
}

# The level at which each case-handling role acts (mediators: by their assignment).
_ROLE_LEVEL = {
    "township_admin": Level.TOWNSHIP,
    "township_staff": Level.TOWNSHIP,
    "village_secretary": Level.VILLAGE,
    "village_cadre": Level.VILLAGE,
    "grid_worker": Level.GRID,
}


def action_label(action: str) -> str:
    if action in ACTIONS:
        return ACTIONS[action].label
    return RECORD_LABELS.get(action, action)


def _level_label(level: str) -> str:
    return Level(level).label if level in Level.values else ""


def public_sentence(event, case) -> str:
    """One fixed sentence per public event; never a staff note."""
    a, data = event.action, event.data or {}
    if a == "register":
        return "网上提交诉求，已登记" if case.channel == Channel.ONLINE else "事项已登记"
    if a == "escalate":
        return f"上报{_level_label(event.to_level)}级办理"
    if a == "return":
        return f"交由{_level_label(event.to_level)}级办理"
    if a == "transfer":
        body = str(data.get("to_body") or "").strip()
        return f"转交{body}办理" if body else "转交其他单位办理"
    if a == "assign":
        return "已交办：明确了包案领导、承办人、化解方案和办理时限"
    if a == "meeting":
        kind = data.get("kind")
        return f"召开{MeetingKind(kind).label}" if kind in MeetingKind.values else "召开会议"
    if a == "mediation":
        result = data.get("result")
        return f"组织调解（{MediationResult(result).label}）" if result in MediationResult.values else "组织调解"
    if a == "follow_up":
        return "回访"
    fixed = {
        "accept": "已受理",
        "reject": "不予受理（书面答复另行送达）",
        "start": "开始办理",
        "resolve": "已化解",
        "fail": "暂未化解",
        "close": "已办结",
        "reopen": "重新办理",
    }
    return fixed.get(a, action_label(a))


def role_labels(case, actor_ids) -> dict[int, str]:
    """actor id → the label of the highest case-handling role the actor holds over the
    case's area (``工作人员`` when none is left)."""
    ids = {i for i in actor_ids if i}
    if not ids:
        return {}
    best: dict[int, tuple[int, str]] = {}
    rows = Assignment.objects.filter(user_id__in=ids).values_list("user_id", "area_code", "role")
    for user_id, area_code, role in rows:
        if not case.area_code.startswith(area_code) or role not in ROLES:
            continue
        level = _ROLE_LEVEL.get(role) or (Level.TOWNSHIP if len(area_code) <= 9 else Level.VILLAGE)
        rank = level_index(level) if role != "mediator" else -1
        if user_id not in best or rank > best[user_id][0]:
            best[user_id] = (rank, ROLES[role].label)
    return {i: best[i][1] if i in best else "工作人员" for i in ids}


def actor_role(event, case, labels: dict[int, str]) -> str:
    if event.actor_id:
        return labels.get(event.actor_id, "工作人员")
    if event.action == "register":
        return "群众本人" if case.channel == Channel.ONLINE else "工作人员"
    return "系统"


def public_timeline(case) -> list[dict]:
    """The timeline a party or the public tracker sees: public events only, fixed
    sentences, role labels."""
    events = list(selectors.timeline(case=case, public_only=True))
    labels = role_labels(case, [e.actor_id for e in events])
    out = []
    for e in events:
        out.append(
            {
                "id": e.pk,
                "at": e.at,
                "action": e.action,
                "text": public_sentence(e, case),
                "actor": actor_role(e, case, labels),
                "status": e.to_status,
                "status_label": Status(e.to_status).label if e.to_status in Status.values else "",
                "level": e.to_level,
                "level_label": _level_label(e.to_level),
            }
        )
    return out
