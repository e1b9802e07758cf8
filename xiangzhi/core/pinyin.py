"""Pinyin keys for searching Chinese names: 刘长喜 → liuchangxi / lcx (and liuzhangxi / lzx,
since 长 has two readings). Used by the registry's search index."""

from __future__ import annotations

import itertools
import unicodedata

from pypinyin import Style, pinyin

MAX_VARIANTS = 8


def _readings(name: str) -> list[list[str]]:
    out = []
    for chunk in pinyin(name, style=Style.NORMAL, heteronym=True, errors=lambda s: [c for c in s]):
        readings = []
        for r in chunk:
            r = unicodedata.normalize("NFKD", r).encode("ascii", "ignore").decode().lower()
            r = "".join(ch for ch in r if ch.isalnum())
            if r and r not in readings:
                readings.append(r)
        out.append(readings[:3] or [""])
    return out


def name_variants(name: str) -> list[tuple[str, str]]:
    """[(full pinyin, initials)], the most common reading first."""
    name = (name or "").strip()
    if not name:
        return []
    seen, result = set(), []
    for combo in itertools.islice(itertools.product(*_readings(name)), MAX_VARIANTS):
        full = "".join(combo)
        initials = "".join(r[0] for r in combo if r)
        if full not in seen:
            seen.add(full)
            result.append((full, initials))
    return result


def search_keys(name: str) -> set[str]:
    """Every prefix-searchable key of a name: the name, its given name, full pinyin and
    initials of every reading."""
    name = (name or "").strip()
    keys = {name.lower()} if name else set()
    if len(name) >= 2:
        keys.add(name[1:].lower())
    for full, initials in name_variants(name):
        keys.add(full)
        keys.add(initials)
    return {k[:60] for k in keys if k}


def normalize_query(q: str) -> str:
    q = unicodedata.normalize("NFKC", q or "").strip().lower()
    return "".join(q.split())
