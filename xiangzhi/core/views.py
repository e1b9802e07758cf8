"""Base views. Every route is classified (public / login / permission) — the route census
test fails on a route that is not. Scoped views read only through ``restrict()``: an object
out of scope is 404; a user whose roles lack the permission altogether gets 403."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views import View

from .scoping import has_perm, perm_name, roles_of

PUBLIC, LOGIN, PERMISSION = "public", "login", "permission"


def public(view):
    view.xz_access = PUBLIC
    return view


def login_required(view):
    from functools import wraps

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.xz_access = LOGIN
    return wrapper


def permission_required(perm: str):
    """Function-view decorator: login, then the permission in at least one assignment."""
    from functools import wraps

    def deco(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_perm(request.user, perm):
                raise PermissionDenied("您的岗位没有此项权限")
            return view(request, *args, **kwargs)

        wrapper.xz_access = PERMISSION
        wrapper.xz_perm = perm
        return wrapper

    return deco


class ScopedView(View):
    """Class-based base: ``model`` + ``action`` give the permission; ``scoped()`` is the
    restricted queryset every read starts from."""

    model = None
    action = "view"
    xz_access = PERMISSION

    def permission(self) -> str:
        return perm_name(self.model, self.action)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not has_perm(request.user, self.permission()):
            raise PermissionDenied("您的岗位没有此项权限")
        return super().dispatch(request, *args, **kwargs)

    def scoped(self, action: str | None = None):
        return self.model.objects.restrict(self.request.user, action or self.action)


@login_required
def home(request):
    from .workbench import workbench_for

    return render(request, "core/home.html", workbench_for(request.user))


@public
def healthz(request):
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def error_403(request, exception=None):
    message = str(exception) if exception and str(exception) else "您没有权限访问此页面"
    return render(request, "errors/403.html", {"message": message}, status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    return render(request, "errors/500.html", status=500)


def error_400(request, exception=None):
    return render(request, "errors/400.html", status=400)


def error_csrf(request, reason=""):
    return render(request, "errors/403.html", {"message": "页面已过期，请刷新后重试"}, status=403)


__all__ = ["public", "login_required", "permission_required", "ScopedView", "roles_of"]
