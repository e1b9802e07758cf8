"""Field-work pages (mounted at /visits/)."""

from .views import urlpatterns

app_name = "visits"
__all__ = ["app_name", "urlpatterns"]
