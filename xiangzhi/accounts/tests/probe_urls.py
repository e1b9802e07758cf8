"""Test-only URLconf: the real site plus one authenticated API operation that uses the same
AUTH classes as every /api/v1/ operation, so the login-policy tests can prove that a
revoked token is refused without depending on another module's endpoints."""

from django.urls import path
from ninja import NinjaAPI

from xiangzhi.core.api import AUTH
from xiangzhi.urls import urlpatterns as site_urlpatterns

probe = NinjaAPI(title="probe", version="probe", auth=AUTH, urls_namespace="probe", docs_url=None)


@probe.get("/whoami")
def whoami(request):
    return {"username": request.auth.username}


urlpatterns = [*site_urlpatterns, path("probe/", probe.urls)]
