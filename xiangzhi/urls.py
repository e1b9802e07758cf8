from django.urls import include, path

from xiangzhi.core import views as core_views

from .api import api

handler400 = "xiangzhi.core.views.error_400"
handler403 = "xiangzhi.core.views.error_403"
handler404 = "xiangzhi.core.views.error_404"
handler500 = "xiangzhi.core.views.error_500"

urlpatterns = [
    path("", core_views.home, name="home-root"),
    path("", include("xiangzhi.core.urls")),
    path("accounts/", include("xiangzhi.accounts.urls")),
    path("org/", include("xiangzhi.org.urls")),
    path("residents/", include("xiangzhi.residents.urls")),
    path("audit/", include("xiangzhi.audit.urls")),
    path("p/", include("xiangzhi.portal.urls")),
    path("cases/", include("xiangzhi.cases.urls")),
    path("points/", include("xiangzhi.points.urls")),
    path("messages/", include("xiangzhi.notifications.urls")),
    path("cadres/", include("xiangzhi.cadres.urls")),
    path("visits/", include("xiangzhi.visits.urls")),
    path("api/v1/", api.urls),
]
