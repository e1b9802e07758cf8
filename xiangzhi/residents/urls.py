"""Registry URLs: the pages (views.py) and the import/export registers (views_io.py)."""

from .views import urlpatterns as _pages
from .views_io import urlpatterns as _io

app_name = "residents"
urlpatterns = _pages + _io
