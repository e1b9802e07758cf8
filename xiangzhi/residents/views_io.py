"""Registry import/export."""

urlpatterns: list = []
