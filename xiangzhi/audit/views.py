"""The audit log page (审计日志): auditors only, scoped to the auditor's area."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from xiangzhi.accounts.selectors import area_names
from xiangzhi.core.views import permission_required

from . import selectors
from .forms import EventFilterForm
from .services import verify_chain


@permission_required(selectors.PERM)
@require_GET
def event_list(request):
    form = EventFilterForm(request.GET)
    if form.is_valid():
        page = selectors.event_page(
            request.user, form.filters(), before=request.GET.get("before"), after=request.GET.get("after")
        )
    else:
        page = selectors.KeysetPage()
    params = request.GET.copy()
    for key in ("before", "after"):
        params.pop(key, None)
    names = area_names(ev.area_code for ev in page.events)
    rows = [
        {
            "event": ev,
            "area": names.get(ev.area_code, ev.area_code),
            "label": selectors.action_label(ev.action),
            "details": selectors.details_text(ev.details),
        }
        for ev in page.events
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": params.urlencode(),
        "actions": sorted(selectors.ACTION_LABELS.items()),
    }
    return render(request, "audit/event_list.html", context)


@permission_required(selectors.PERM)
@require_POST
def chain_verify(request):
    ok, checked, bad_id = verify_chain()
    if ok:
        messages.success(request, f"哈希链校验通过：共 {checked} 条记录，未发现篡改。")
    else:
        messages.error(
            request, f"哈希链校验失败：第 {bad_id} 号记录与链不符（此前 {checked} 条正常），记录可能被篡改。"
        )
    return redirect("audit:event_list")
