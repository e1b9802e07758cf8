"""Cadre pages (mounted at /cadres/): roster, cadre pages, 两委, analytics (views.py);
training and growth, commendations and criticism (views_growth.py); registers and the
roster import (views_io.py)."""

from django.urls import path

from . import views
from .views_growth import urlpatterns as _growth
from .views_io import urlpatterns as _io

app_name = "cadres"
urlpatterns = [
    path("", views.roster, name="roster"),
    path("new/", views.cadre_create, name="create"),
    path("<int:pk>/", views.cadre_detail, name="detail"),
    path("<int:pk>/edit/", views.cadre_update, name="update"),
    path("<int:pk>/posts/new/", views.post_add, name="post_add"),
    path("posts/<int:pk>/end/", views.post_end, name="post_end"),
    path("committees/", views.committee, name="committee"),
    path("analytics/", views.analytics, name="analytics"),
    *_growth,
    *_io,
]
