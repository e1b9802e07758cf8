"""Panels of the 一户一档 page that later modules fill.

The household page shows one panel per slot below, in order. A module that has something
to say about a household only registers a provider — it never edits the residents app::

    from xiangzhi.residents import panels

    @panels.register("cases")
    def household_cases(user, household):
        if not has_perm(user, "cases.view_case"):
            return None                      # hide the panel for this user
        rows = case_list(user=user, household_id=household.pk)[:5]
        return {
            "items": [{"title": c.title, "meta": c.created_at, "url": ..., "badge": c.get_status_display()}
                      for c in rows],
            "summary": "共 3 件，在办 1 件",  # optional
            "more_url": ...,                 # optional "查看全部" link
        }

A provider is ``fn(user, household) -> dict | None``. ``None`` hides the panel (the user may
not see that module); a dict with no ``items`` shows "暂无记录". Keys of the dict:
``items`` (list of dicts with ``title`` and optional ``meta``, ``url``, ``badge``,
``badge_class``), ``summary``, ``more_url``, ``template`` (a template of your own, rendered
with ``panel`` and ``household`` in its context). Providers must read through their own
scoped selectors and stay O(1) queries. Register from your app's ``AppConfig.ready()`` (or a
module it imports) so the provider exists before the first request. A slot without a provider shows the placeholder
"暂无记录（该模块上线后自动显示）". New slots: ``register("key", title="…", order=…)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

PLACEHOLDER = "暂无记录（该模块上线后自动显示）"
EMPTY = "暂无记录"
FAILED = "该模块暂时无法显示，请稍后再试"


@dataclass
class Slot:
    key: str
    title: str
    order: int
    provider: Callable | None = None


SLOTS: dict[str, Slot] = {
    s.key: s
    for s in [
        Slot("cases", "矛盾纠纷/信访事项", 10),
        Slot("points", "积分", 20),
        Slot("visits", "走访记录", 30),
        Slot("credit", "信用评级", 40),
        Slot("subsidies", "惠农补贴", 50),
    ]
}


def register(key: str, *, title: str | None = None, order: int | None = None):
    """Decorator: make ``fn(user, household) -> dict | None`` the provider of slot ``key``."""

    def deco(fn: Callable) -> Callable:
        slot = SLOTS.get(key)
        if slot is None:
            slot = SLOTS[key] = Slot(key, title or key, order if order is not None else 100)
        else:
            if title:
                slot.title = title
            if order is not None:
                slot.order = order
        slot.provider = fn
        return fn

    return deco


def unregister(key: str) -> None:
    """Remove a provider (tests); the built-in slots go back to their placeholder."""
    slot = SLOTS.get(key)
    if slot is not None:
        slot.provider = None


def panels_for(user, household) -> list[dict]:
    """Render-ready panels for the household page, in slot order."""
    out = []
    for slot in sorted(SLOTS.values(), key=lambda s: (s.order, s.key)):
        panel = {"key": slot.key, "title": slot.title, "items": [], "empty": PLACEHOLDER}
        if slot.provider is not None:
            try:
                data = slot.provider(user, household)
            except Exception:  # one module's failure must not take the household page down
                logger.exception("household panel %s failed", slot.key)
                data = {"items": [], "empty": FAILED, "failed": True}
            if data is None:
                continue
            panel.update({"empty": EMPTY, **data})
        out.append(panel)
    return out
