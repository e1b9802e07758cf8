"""Route census (DESIGN.md §4): every URL of the site is classified as public, login or
permission, and every non-public page sends an anonymous visitor to the login page.

A new route whose view is not decorated with ``core.views.public`` / ``login_required`` /
``permission_required`` (nor a ``core.views.ScopedView`` subclass) fails here. /api/v1/ is
covered by the API tests (its auth is declared per operation); static files are public.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter

from xiangzhi.core.views import LOGIN, PERMISSION, PUBLIC, ScopedView

EXCLUDED_PREFIXES = ("api/v1/", settings.STATIC_URL.lstrip("/"))
# Routes that are public by nature. A public route must still carry @public; this list
# only documents which ones we expect, so that a page turning public by accident fails.
EXPECTED_PUBLIC = {"accounts:login", "accounts:logout", "core:healthz"}
# Namespaces that are public by design (DESIGN.md §3: portal = public and villager pages).
PUBLIC_NAMESPACES = ("portal:",)


def walk(patterns=None, prefix="", namespace=""):
    """Yield (route, name, callback, converters) for every URL pattern, recursively."""
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            converters = dict(getattr(p.pattern, "converters", {}))
            yield route, name, p.callback, converters


def site_routes():
    return [r for r in walk() if not r[0].startswith(EXCLUDED_PREFIXES)]


def access_of(callback):
    """('public'|'login'|'permission', description) or (None, why)."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        if not issubclass(view_class, ScopedView):
            return None, f"class view {view_class.__qualname__} does not subclass core.views.ScopedView"
        return getattr(view_class, "xz_access", None), view_class.__qualname__
    return getattr(callback, "xz_access", None), getattr(callback, "__qualname__", repr(callback))


DUMMY = {
    IntConverter: lambda name: 1,
    UUIDConverter: lambda name: uuid.UUID(int=1),
    SlugConverter: lambda name: "x",
    PathConverter: lambda name: "x",
}


def dummy_kwargs(converters) -> dict:
    kwargs = {}
    for name, conv in converters.items():
        if isinstance(conv, StringConverter) and "code" in name:
            kwargs[name] = "341524"
        else:
            maker = next((m for cls, m in DUMMY.items() if isinstance(conv, cls)), lambda n: "x")
            kwargs[name] = maker(name)
    return kwargs


def test_the_census_sees_the_site():
    names = {name for _, name, _, _ in site_routes()}
    # the walk reaches nested namespaces; if these vanish the census is looking at nothing
    assert {"accounts:login", "accounts:user_list", "org:region_list", "audit:event_list", "core:home"} <= names


def test_every_route_is_classified():
    problems = []
    for route, name, callback, _ in site_routes():
        access, what = access_of(callback)
        if access not in (PUBLIC, LOGIN, PERMISSION):
            problems.append(
                f"/{route} ({name or 'unnamed'}): {what} is not classified — decorate it with "
                "core.views.public, login_required or permission_required, or subclass core.views.ScopedView"
            )
        elif access == PERMISSION and not (
            getattr(callback, "xz_perm", None) or getattr(getattr(callback, "view_class", None), "model", None)
        ):
            problems.append(f"/{route} ({name}): permission route without a permission")
    assert not problems, "Unclassified routes:\n" + "\n".join(problems)


def test_public_routes_are_the_expected_ones():
    public = {name for route, name, cb, _ in site_routes() if access_of(cb)[0] == PUBLIC}
    unexpected = {n for n in public - EXPECTED_PUBLIC if not (n or "").startswith(PUBLIC_NAMESPACES)}
    assert not unexpected, (
        f"New public routes {sorted(unexpected)}: if they really must be reachable without login, "
        "add them to EXPECTED_PUBLIC in this test (and say why in the view's docstring)."
    )


def test_census_rejects_an_unclassified_view():
    """The checker itself can fail: a bare function and a plain class view are caught."""
    from django.views import View

    def bare(request):
        return None

    class Plain(View):
        pass

    assert access_of(bare)[0] is None
    assert access_of(Plain.as_view())[0] is None


def _url(route, name, converters):
    kwargs = dummy_kwargs(converters)
    if name:
        return reverse(name, kwargs=kwargs)
    url = "/" + route
    for key, value in kwargs.items():
        url = url.replace(f"<{key}>", str(value))
    return url


@pytest.mark.django_db
def test_anonymous_get_on_every_non_public_route_redirects_to_login(client):
    login_url = reverse("accounts:login")
    problems = []
    for route, name, callback, converters in site_routes():
        if access_of(callback)[0] == PUBLIC:
            continue
        url = _url(route, name, converters)
        resp = client.get(url)
        if resp.status_code != 302 or not resp.url.startswith(login_url):
            problems.append(f"{url} ({name}): anonymous GET gave {resp.status_code} {resp.get('Location', '')}")
    assert not problems, (
        "Non-public routes must send anonymous visitors to the login page (for a POST-only view, put "
        "login_required/permission_required above require_POST):\n" + "\n".join(problems)
    )
