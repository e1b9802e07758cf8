from .context import reset_ip, set_ip
from .scoping import mark_request_user


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or ""


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_ip(client_ip(request))
        user = getattr(request, "user", None)
        if user is not None:
            mark_request_user(user)  # loads the user row once, with its scope stamp
        try:
            return self.get_response(request)
        finally:
            reset_ip(token)
