"""Public pages for villagers (no login): the per-village intake page reached by a QR code,
its QR code and printable poster, and progress tracking by tracking code + the phone's
last 4 digits. Rate-limited per client IP (xiangzhi.core.ratelimit); CSRF stays on."""

from __future__ import annotations

import io

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xiangzhi.core import ratelimit
from xiangzhi.core.views import public

from . import selectors, services
from .forms import IntakeForm, TrackForm, new_token

NOT_FOUND = "查询码或手机号后四位不正确"


class VillageNotFound(Http404):
    pass


def _village_or_404(village_code: str):
    village = selectors.intake_village(village_code)
    if village is None:
        raise VillageNotFound("没有这个村的服务页面")
    return village


def _portal_404(view):
    """A villager who scans an outdated QR code gets a portal page, not the staff 404."""
    from functools import wraps

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except VillageNotFound:
            return render(request, "portal/not_found.html", status=404)

    return wrapper


def intake_url(request, village_code: str) -> str:
    """The absolute address a QR code points to (``XIANGZHI_PUBLIC_URL`` when the site is
    reached under another name than this request's)."""
    path = reverse("portal:intake", args=[village_code])
    base = (getattr(settings, "XIANGZHI_PUBLIC_URL", "") or "").rstrip("/")
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _too_many(request, exc: ratelimit.RateLimited, context=None):
    response = render(request, "portal/rate_limited.html", {"message": exc.message, **(context or {})}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@public
@never_cache
@require_http_methods(["GET", "POST"])
@_portal_404
def intake(request, village_code: str):
    village = _village_or_404(village_code)
    context = {"village": village, "village_label": selectors.village_label(village)}
    grids = selectors.village_grids(village)
    if request.method == "GET":
        form = IntakeForm(
            initial={"token": new_token(), "kind": request.GET.get("kind", ""), "grid": request.GET.get("grid", "")},
            grids=grids,
        )
        return _intake_page(request, context, form)
    try:
        ratelimit.peek(request, "intake")
    except ratelimit.RateLimited as exc:
        return _too_many(request, exc, context)
    form = IntakeForm(request.POST, request.FILES, grids=grids)
    if form.is_valid():
        data = form.cleaned_data
        try:
            case, created = services.intake_submit(
                village_code=village.code,
                kind=data["kind"],
                title=data["title"],
                description=data["description"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                photos=data["photos"],
                token=data["token"],
                grid_code=data.get("grid") or "",
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                target = field if field in form.fields else None
                for message in messages:
                    form.add_error(target, message)
        else:
            if created:
                _count(request)
            return render(request, "portal/intake_done.html", {**context, "case": case})
    if not form.data.get("token"):
        form.data = form.data.copy()
        form.data["token"] = new_token()
    return _intake_page(request, context, form, status=400)


def _intake_page(request, context, form, status=200):
    kinds = [(radio, selectors.KIND_HINTS.get(radio.data["value"], "")) for radio in form["kind"]]
    return render(request, "portal/intake.html", {**context, "form": form, "kinds": kinds}, status=status)


def _count(request) -> None:
    """Count a created submission against the intake limit (the next one over is refused)."""
    try:
        ratelimit.hit(request, "intake")
    except ratelimit.RateLimited:
        pass  # this one is already written; the limit applies from the next submission


@public
@require_http_methods(["GET"])
def intake_qr(request, village_code: str):
    """The QR code of a village's intake page (SVG, for the poster and for printing)."""
    village = _village_or_404(village_code)
    url = intake_url(request, village.code)
    qr = segno.make(url, error="m", micro=False)
    buf = io.BytesIO()
    qr.save(buf, kind="svg", scale=10, border=2, title=f"{village.name}群众诉求二维码", desc=url)
    response = HttpResponse(buf.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@public
@require_http_methods(["GET"])
@_portal_404
def poster(request, village_code: str):
    """A printable A4 poster for the village's notice board: name, QR code, instructions."""
    village = _village_or_404(village_code)
    return render(
        request,
        "portal/poster.html",
        {
            "village": village,
            "village_label": selectors.village_label(village),
            "intake_url": intake_url(request, village.code),
            "track_url": request.build_absolute_uri(reverse("portal:track")),
        },
    )


@public
@never_cache
@require_http_methods(["GET", "POST"])
def track(request):
    """Tracking by code + the phone's last 4 digits (POST: nothing sensitive in the URL).
    An unknown code and a wrong last-4 get the same answer."""
    if request.method == "GET":
        return render(request, "portal/track.html", {"form": TrackForm()})
    try:
        ratelimit.hit(request, "track")
    except ratelimit.RateLimited as exc:
        return _too_many(request, exc)
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": form}, status=400)
    result = selectors.track(
        tracking_code=form.cleaned_data["tracking_code"], phone_last4=form.cleaned_data["phone_last4"]
    )
    if result is None:
        return render(request, "portal/track.html", {"form": form, "not_found": NOT_FOUND})
    return render(request, "portal/track_result.html", {"result": result})
