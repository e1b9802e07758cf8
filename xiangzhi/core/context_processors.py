"""Navigation by role: a staff item shows when the user holds its permission over some area
(a villager's own-household rights do not open staff pages; villagers get the portal)."""

from django.urls import NoReverseMatch, reverse

from .scoping import memoised, scopes_for

# (label, url name, permission or None for any logged-in user, icon letter)
NAV = [
    ("工作台", "core:home", None),
    ("矛盾纠纷/信访", "cases:queue", "cases.view_case"),
    ("一户一档", "residents:household_list", "residents.view_household"),
    ("积分与超市", "points:home", "points.view_account"),
    ("走访", "visits:home", "visits.view_visit"),
    ("干部队伍", "cadres:roster", "cadres.view_cadre"),
    ("户籍导入", "residents:import", "residents.import_household"),
    ("区划与网格", "org:region_list", "org.view_region"),
    ("账户与岗位", "accounts:user_list", "accounts.view_user"),
    ("审计日志", "audit:event_list", "audit.view_auditevent"),
]


# Items whose rows live above the grid: a user whose scope is grids only would find them
# empty (the 干部 roster is kept per village and township), so the menu does not offer them.
ABOVE_GRID = {"cadres.view_cadre"}
GRID_CODE_LENGTH = 15


def _nav_items(user) -> list[tuple[str, str]]:
    items = []
    for label, name, perm in NAV:
        areas = scopes_for(user, perm)[0] if perm else None
        if perm and not areas:
            continue
        if perm in ABOVE_GRID and all(len(a) >= GRID_CODE_LENGTH for a in areas):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # a module not installed in this deployment
            continue
        items.append((label, url))
    return items


def shell(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    path = request.path
    items = [
        {"label": label, "url": url, "active": path == url if url == "/" else path.startswith(url)}
        for label, url in memoised(user, "nav", lambda: _nav_items(user))
    ]
    return {"nav": items, "unread_messages": lambda: _unread(user)}


def _unread(user):
    """Unread in-app messages, kept on the user row by a database trigger (accounts/0003)."""
    n = max(0, getattr(user, "unread_messages", 0) or 0)
    return "99+" if n > 99 else n
