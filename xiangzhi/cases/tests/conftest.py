import pytest

from xiangzhi.cases import services
from xiangzhi.cases.models import Category


@pytest.fixture
def category(db):
    return Category.objects.create(code="neighbour", name="邻里")


@pytest.fixture
def make_case(cast, category):
    def _make(kind="dispute", area=None, actor=None, **kw):
        return services.case_register(
            actor=actor or cast.grid_worker_a1,
            kind=kind,
            channel=kw.pop("channel", "grid_report"),
            area_code=area or cast.grid_a1.code,
            title=kw.pop("title", "邻里排水沟纠纷"),
            description=kw.pop("description", "两户因排水沟走向发生争执"),
            category=category,
            **kw,
        )

    return _make
