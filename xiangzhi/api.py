"""/api/v1/: mounts each app's router. OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from ninja import NinjaAPI

from xiangzhi.core.api import AUTH, install_error_handlers

api = NinjaAPI(
    title="乡治 API",
    version="1",
    description="乡镇基层治理平台接口。除公开接口外均需登录（Bearer 令牌或浏览器会话）。",
    auth=AUTH,
    urls_namespace="api",
)
install_error_handlers(api)

from xiangzhi.accounts.api import router as accounts_router  # noqa: E402
from xiangzhi.cadres.api import router as cadres_router  # noqa: E402
from xiangzhi.cases.api import router as cases_router  # noqa: E402
from xiangzhi.org.api import router as org_router  # noqa: E402
from xiangzhi.points.api import router as points_router  # noqa: E402
from xiangzhi.portal.api import router as public_router  # noqa: E402
from xiangzhi.residents.api import router as residents_router  # noqa: E402
from xiangzhi.visits.api import router as visits_router  # noqa: E402

api.add_router("/auth", accounts_router)
api.add_router("/regions", org_router)
api.add_router("/", residents_router)
api.add_router("/cases", cases_router)
api.add_router("/public", public_router)
api.add_router("/visits", visits_router)
api.add_router("/cadres", cadres_router)
api.add_router("/points", points_router)
