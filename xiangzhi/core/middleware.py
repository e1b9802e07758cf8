from django.conf import settings
from django.utils.functional import empty

from .context import reset_ip, set_ip
from .scoping import mark_request_user


def client_ip(request) -> str:
    """The client's address for audit records and rate limits. Behind N trusted reverse
    proxies (``XIANGZHI_PROXY_HOPS``, 1 when ``XIANGZHI_BEHIND_PROXY``) it is the N-th
    address from the right of X-Forwarded-For — the one our own proxy saw; anything to its
    left was written by the client and is not trusted."""
    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    if hops > 0:
        chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(chain) >= hops:
            return chain[-hops][:45]
    return request.META.get("REMOTE_ADDR", "") or ""


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_ip(client_ip(request))
        user = getattr(request, "user", None)
        if user is not None:
            mark_request_user(user)  # loads the user row once, with its scope stamp
            # the loaded user itself, not the lazy proxy: every attribute read through
            # SimpleLazyObject costs a Python call, and a list page reads hundreds
            wrapped = getattr(user, "_wrapped", None)
            if wrapped is not None and wrapped is not empty:
                request.user = wrapped
        try:
            return self.get_response(request)
        finally:
            reset_ip(token)
