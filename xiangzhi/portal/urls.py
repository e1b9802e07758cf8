from django.urls import include, path, re_path

from . import views

app_name = "portal"
VILLAGE = r"(?P<village_code>[0-9]{12})"
urlpatterns = [
    path("track/", views.track, name="track"),
    path("points/", include("xiangzhi.portal.points_views")),
    re_path(rf"^{VILLAGE}/$", views.intake, name="intake"),
    re_path(rf"^{VILLAGE}/qr\.svg$", views.intake_qr, name="intake_qr"),
    re_path(rf"^{VILLAGE}/poster/$", views.poster, name="poster"),
]
