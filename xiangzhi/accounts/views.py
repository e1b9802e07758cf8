"""Login/logout, and the account administration pages (账户与岗位): users inside the
administrator's area, their posts (assignments), disabling and password resets. Every write
goes through ``services`` (audited); every read through ``selectors`` (``restrict()``)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xiangzhi.core.scoping import can_in_area, has_perm
from xiangzhi.core.views import permission_required, public
from xiangzhi.org.models import Assignment
from xiangzhi.org.roles import ROLES

from . import selectors, services
from .forms import AssignmentForm, PasswordResetForm, SearchForm, UserCreateForm, apply_errors


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
    expired = bool(request.GET.get("expired")) or bool(request.session.pop("expired_notice", False))
    context = {"next": next_url, "expired": expired and request.method == "GET"}
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


# --- account administration -----------------------------------------------------------
PAGE_SIZE = 50


class OffsetPage:
    """A page of a queryset without a COUNT: fetch one row more than shown to know whether a
    next page exists (fits templates/components/pagination.html)."""

    def __init__(self, request, qs, size: int = PAGE_SIZE):
        try:
            number = int(request.GET.get("page", "1"))
        except ValueError:
            number = 1
        self.number = max(1, min(number, 100000))
        start = (self.number - 1) * size
        rows = list(qs[start : start + size + 1])
        self.has_next = len(rows) > size
        self.object_list = rows[:size]
        self.has_previous = self.number > 1
        params = request.GET.copy()
        params["page"] = self.number + 1
        self.next_query = params.urlencode()
        params["page"] = self.number - 1
        self.previous_query = params.urlencode()
        if self.object_list:
            self.summary = f"第 {start + 1}–{start + len(self.object_list)} 条"
        else:
            self.summary = "没有符合条件的记录"


@permission_required("accounts.view_user")
@require_GET
def user_list(request):
    form = SearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = OffsetPage(request, selectors.user_list(user=request.user, q=q))
    codes = set()
    for u in page.object_list:
        codes.add(u.area_code)
        codes.update(a.area_code for a in u.assignments.all())
    names = selectors.area_names(codes)
    rows = [
        {
            "user": u,
            "area": names.get(u.area_code, u.area_code or "—"),
            "posts": selectors.assignment_rows(u.assignments.all(), names),
        }
        for u in page.object_list
    ]
    context = {
        "form": form,
        "q": q,
        "page": page,
        "rows": rows,
        "can_add": has_perm(request.user, "accounts.add_user"),
    }
    return render(request, "accounts/user_list.html", context)


@permission_required("accounts.add_user")
@require_http_methods(["GET", "POST"])
def user_create(request):
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.user_create(
                actor=request.user,
                username=data["username"],
                password=data["password1"],
                full_name=data["full_name"],
                area_code=data["area_code"],
            )
        except ValidationError as exc:
            apply_errors(form, _as_password_error(exc))
        except PermissionDenied as exc:
            form.add_error("area_code", str(exc))
        else:
            messages.success(request, f"已创建账户“{created.username}”。请为其分配岗位。")
            return redirect("accounts:user_detail", pk=created.pk)
    return render(request, "accounts/user_form.html", {"form": form})


def _detail(request, target, *, assignment_form=None, password_form=None, status=200):
    actor = request.user
    assignments = list(target.assignments.order_by("area_code", "role"))
    names = selectors.area_names([target.area_code] + [a.area_code for a in assignments])
    posts = selectors.assignment_rows(assignments, names)
    for post in posts:
        post["can_remove"] = can_in_area(actor, "org.delete_assignment", post["area_code"])
    can_change = (
        has_perm(actor, "accounts.change_user")
        and selectors.User.objects.restrict(actor, "change").filter(pk=target.pk).exists()
    )
    can_assign = has_perm(actor, "org.add_assignment")
    context = {
        "target": target,
        "area": names.get(target.area_code, target.area_code or "—"),
        "posts": posts,
        "can_change": can_change,
        "can_assign": can_assign,
        "is_self": target.pk == actor.pk,
        "assignment_form": assignment_form or (AssignmentForm(actor=actor) if can_assign else None),
        "password_form": password_form or (PasswordResetForm(target=target) if can_change else None),
        "levels_help": [(r.label, "、".join(_LEVEL_LABELS.get(lv, lv) for lv in r.levels)) for r in ROLES.values()],
    }
    return render(request, "accounts/user_detail.html", context, status=status)


_LEVEL_LABELS = {"county": "县", "township": "乡镇", "village": "村", "grid": "网格"}


@permission_required("accounts.view_user")
@require_GET
def user_detail(request, pk: int):
    target = selectors.user_get(user=request.user, pk=pk)
    return _detail(request, target)


@permission_required("accounts.change_user")
@require_POST
def user_set_active(request, pk: int):
    target = selectors.user_get(user=request.user, pk=pk, action="change")
    active = request.POST.get("active") == "1"
    try:
        if active:
            services.user_enable(actor=request.user, user=target)
            messages.success(request, "账户已启用。")
        else:
            services.user_disable(actor=request.user, user=target)
            messages.success(request, "账户已停用，其登录会话和 API 令牌已全部失效。")
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("accounts:user_detail", pk=target.pk)


@permission_required("accounts.change_user")
@require_POST
def user_password(request, pk: int):
    target = selectors.user_get(user=request.user, pk=pk, action="change")
    form = PasswordResetForm(request.POST, target=target)
    if form.is_valid():
        try:
            services.user_set_password(actor=request.user, user=target, password=form.cleaned_data["password1"])
        except ValidationError as exc:
            apply_errors(form, _as_password_error(exc))
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "密码已重置，该账户的登录会话和 API 令牌已全部失效。")
            return redirect("accounts:user_detail", pk=target.pk)
    return _detail(request, target, password_form=form)


def _as_password_error(exc: ValidationError) -> ValidationError:
    if hasattr(exc, "error_dict") and "password" in exc.error_dict:
        return ValidationError({"password1": exc.message_dict["password"]})
    return exc


@permission_required("org.add_assignment")
@require_POST
def assignment_add(request, pk: int):
    target = selectors.user_get(user=request.user, pk=pk)
    form = AssignmentForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            services.assignment_add(
                actor=request.user,
                user=target,
                area_code=form.cleaned_data["area_code"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("area_code", str(exc))
        else:
            messages.success(request, "岗位已分配，对方下一次操作即生效。")
            return redirect("accounts:user_detail", pk=target.pk)
    return _detail(request, target, assignment_form=form)


@permission_required("org.delete_assignment")
@require_POST
def assignment_remove(request, pk: int, assignment_pk: int):
    target = selectors.user_get(user=request.user, pk=pk)
    if assignment_pk > selectors.MAX_PK:
        return redirect("accounts:user_detail", pk=target.pk)
    assignment = get_object_or_404(Assignment, pk=assignment_pk, user=target)
    try:
        services.assignment_remove(actor=request.user, assignment=assignment)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "岗位已撤销，对方下一次操作即生效。")
    return redirect("accounts:user_detail", pk=target.pk)


@permission_required("org.add_assignment")
@require_GET
def assignment_area_options(request):
    """htmx: the <option>s of the area select for the chosen role (levels the role allows)."""
    role = request.GET.get("role", "")
    form = AssignmentForm(actor=request.user, role=role if role in ROLES else None)
    choices = form.fields["area_code"].choices
    html = format_html_join("", '<option value="{}">{}</option>', choices)
    return HttpResponse(html or format_html('<option value="">{}</option>', "无可选区域"))
