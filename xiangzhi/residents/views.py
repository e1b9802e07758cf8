"""Registry pages (一户一档)."""

urlpatterns: list = []
