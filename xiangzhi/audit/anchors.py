"""Anchors of the audit log kept outside the database.

The hash chains detect any edited or deleted row except a chain's newest ones: delete the
tail of a chain (after dropping the append-only triggers, which takes the database owner's
rights) and what is left still verifies. An *anchor* closes that gap: the id and hash of
every chain's newest row, appended as one JSON line to a file in the data folder
(``settings.AUDIT_ANCHOR_FILE``) every hour by the worker loop. ``verify_audit_chain`` then
checks that each anchored row is still there with the same hash. Copy the file off the
machine with the backups (docs/deploy.md): the database's owner alone cannot rewrite both.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from .models import AuditEvent


def anchor_file() -> Path:
    return Path(getattr(settings, "AUDIT_ANCHOR_FILE", None) or Path(settings.DATA_DIR) / "audit-anchors.jsonl")


def current_tails() -> dict[int, tuple[int, str]]:
    """{chain: (id, hash)} of each chain's newest row."""
    last = dict(AuditEvent.objects.order_by().values("chain").annotate(m=Max("id")).values_list("chain", "m"))
    hashes = dict(AuditEvent.objects.filter(id__in=list(last.values())).values_list("id", "hash"))
    return {chain: (row_id, hashes[row_id]) for chain, row_id in last.items()}


def write_anchor() -> dict:
    """Append the current tails as one line (flushed to disk). Returns the anchor."""
    anchor = {
        "at": timezone.now().isoformat(timespec="seconds"),
        "tails": {str(c): [i, h] for c, (i, h) in sorted(current_tails().items())},
    }
    path = anchor_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(anchor, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return anchor


def last_anchor() -> dict | None:
    path = anchor_file()
    if not path.exists():
        return None
    last = None
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                last = line
    return json.loads(last) if last else None


def check_last_anchor() -> list[str]:
    """Problems with the newest anchor (empty: every anchored row is still there, unchanged)."""
    try:
        anchor = last_anchor()
    except (OSError, ValueError) as exc:
        return [f"锚点文件无法读取：{exc}"]
    if anchor is None:
        return []
    problems = []
    anchored = {int(i): (int(c), h) for c, (i, h) in anchor.get("tails", {}).items()}
    rows = dict(AuditEvent.objects.filter(id__in=list(anchored)).values_list("id", "hash"))
    for row_id, (chain, digest) in sorted(anchored.items()):
        if row_id not in rows:
            problems.append(f"第 {row_id} 号记录（第 {chain} 条链在 {anchor['at']} 的末端）已不存在")
        elif rows[row_id] != digest:
            problems.append(f"第 {row_id} 号记录（第 {chain} 条链在 {anchor['at']} 的末端）与锚定的哈希不一致")
    return problems
