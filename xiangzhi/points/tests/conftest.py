import pytest

from xiangzhi.core.testing import make_user
from xiangzhi.points import ledger, shop
from xiangzhi.points.models import Account

VILLAGE_A_GRID1 = "341524111206001"


@pytest.fixture
def keeper(db):
    return make_user("keeper_a", "shop_keeper", "341524111206")


@pytest.fixture
def shop_a(db, keeper):
    from xiangzhi.org import services as org_services
    from xiangzhi.org.models import Region

    if not Region.objects.filter(code="341524111206").exists():
        org_services.regions_import_shipped(actor=None)
    return shop.shop_create(actor=None, area_code="341524111206", name="刘冲村振风超市", keeper=keeper)


@pytest.fixture
def funded():
    def _make(points, name="测试户", area=VILLAGE_A_GRID1):
        acc = Account.objects.create(subject_kind="household", name=name, area_code=area)
        if points:
            ledger.post(actor=None, account=acc, amount=points, kind="award", source="seed",
                        idempotency_key=f"seed:{acc.pk}")
        acc.refresh_from_db()
        return acc

    return _make
