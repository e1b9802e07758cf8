from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from xiangzhi.core.views import public

from . import services


def lockout_response(request, original_response=None, credentials=None):
    """Axes hook: a locked account gets exactly the response of a wrong password, which
    our views have already produced."""
    if original_response is not None:
        return original_response
    return render(request, "accounts/login.html", {"error": services.GENERIC_LOGIN_ERROR}, status=200)


@public
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    context = {"next": next_url, "expired": bool(request.GET.get("expired"))}
    if request.method == "POST":
        username = request.POST.get("username", "")
        user = services.login_attempt(request=request, username=username, password=request.POST.get("password", ""))
        if user is not None:
            return redirect(next_url or "core:home")
        context.update(error=services.GENERIC_LOGIN_ERROR, username=username[:150])
    return render(request, "accounts/login.html", context)


@public
@require_POST
def logout_view(request):
    services.logout_user(request=request)
    return redirect("accounts:login")
