"""消息: the signed-in user's in-app messages. Each user sees only their own."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from xiangzhi.core.paging import paginate_request
from xiangzhi.core.views import login_required

from . import services
from .models import Message

MAX_PK = 2**63 - 1


def _mine(request):
    return Message.objects.filter(user=request.user)


@login_required
@require_GET
def message_list(request):
    unread_only = request.GET.get("unread") == "1"
    qs = _mine(request)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    page = paginate_request(request, qs.order_by("-id"), page_size=30, unit="条")
    return render(request, "notifications/message_list.html", {"page": page, "unread_only": unread_only})


@login_required
@require_GET
def message_open(request, pk: int):
    """Mark one of my messages read and go where it points (a local address only)."""
    if not 0 < pk <= MAX_PK:
        raise Http404
    message = get_object_or_404(_mine(request), pk=pk)
    services.mark_read(user=request.user, message_ids=[message.pk])
    url = message.url or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(url)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    ids = list(_mine(request).filter(read_at__isnull=True).values_list("id", flat=True)[:5000])
    n = services.mark_read(user=request.user, message_ids=ids)
    flash.success(request, f"已将 {n} 条消息标为已读。" if n else "没有未读消息。")
    return redirect("notifications:list")
