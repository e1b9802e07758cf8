"""The KPI page: numbers straight from metrics, for an area inside the user's scope only."""

import json
import re

import pytest
from django.urls import reverse

from xiangzhi.cases import metrics
from xiangzhi.core import periods
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B

from .test_registers import march  # noqa: F401  (the March 2025 fixture)

pytestmark = pytest.mark.django_db

URL = "/cases/kpis/"
MARCH = periods.month(2025, 3)


def cards(response) -> dict[str, str]:
    html = response.content.decode()
    return dict(re.findall(r'data-kpi="([a-z_]+)">([^<]*)<', html))


def test_url():
    assert reverse("cases:kpis") == URL


def test_township_admin_sees_the_township_numbers(march, client_for):  # noqa: F811
    response = client_for(march.township_admin).get(URL, {"period": "2025-03"})
    assert response.status_code == 200
    k = metrics.case_kpis(TOWNSHIP, MARCH)
    shown = cards(response)
    assert shown["closure_rate"] == ("—" if k.closure_rate is None else f"{k.closure_rate}%")
    assert shown["on_time_rate"] == f"{k.on_time_rate}%"
    assert shown["mediation_success_rate"] == "75.00%"  # 3 of 4 mediations in March
    assert shown["registered"] == f"{k.registered} 件" == "5 件"
    assert shown["skip_level"] == "0 次"
    html = response.content.decode()
    assert "连续" in html and "个月无越级访" in html
    data = json.loads(re.search(r'<script id="kpi-chart-data" type="application/json">(.*?)</script>', html).group(1))
    assert data["backlog"]["labels"] == [b["label"] for b in metrics.backlog_by_age(TOWNSHIP)]
    assert sum(data["channel"]["values"]) == k.registered
    assert "/static/vendor/echarts-6.1.0/echarts.min.js" in html and "https://" not in html
    assert '<table class="table table-sm xz-table mb-0" id="kpi-backlog">' in html  # the table fallback


def test_kind_filter(march, client_for):  # noqa: F811
    response = client_for(march.township_admin).get(URL, {"period": "2025-03", "kind": "petition"})
    assert cards(response)["registered"] == "1 件"


def test_village_secretary_sees_only_his_village(march, client_for):  # noqa: F811
    client = client_for(march.secretary_b)
    response = client.get(URL, {"period": "2025-03"})
    assert response.status_code == 200
    assert response.context["area"]["code"] == VILLAGE_B
    assert [a["code"] for a in response.context["areas"]] == [VILLAGE_B]
    assert cards(response)["registered"] == "1 件"
    assert cards(response)["mediation_success_rate"] == "100.00%"
    assert client.get(URL, {"area": VILLAGE_A}).status_code == 404
    assert client.get(URL, {"area": TOWNSHIP}).status_code == 404
    assert client.get(URL, {"area": "x' OR 1=1"}).status_code == 404


def test_grid_worker_sees_his_grid(march, client_for):  # noqa: F811
    response = client_for(march.grid_worker_a1).get(URL, {"period": "2025-03"})
    assert response.status_code == 200 and response.context["area"]["code"] == march.grid_a1.code
    assert cards(response)["registered"] == "4 件"  # the four 刘冲村 cases in grid A1 received in March


def test_county_picker_offers_townships_and_villages(march, client_for):  # noqa: F811
    response = client_for(march.county).get(URL, {"area": VILLAGE_A, "period": "2025"})
    assert response.status_code == 200
    codes = [a["code"] for a in response.context["areas"]]
    assert codes[0] == "341524" and TOWNSHIP in codes and VILLAGE_A in codes
    assert response.context["area"]["name"] == "刘冲村"


def test_access(march, client_for, client):  # noqa: F811
    assert client.get(URL).status_code == 302
    for user in (march.villager, march.auditor, march.nobody):
        assert client_for(user).get(URL).status_code == 403


def test_bad_period_is_a_field_message(march, client_for):  # noqa: F811
    response = client_for(march.township_admin).get(URL, {"period": "2025-13"})
    assert response.status_code == 400
    assert "统计期格式应为 2025-07（月）、2025-Q3（季度）或 2025（年）" in response.content.decode()
    assert client_for(march.township_admin).get(URL, {"period": "9999"}).status_code == 400
