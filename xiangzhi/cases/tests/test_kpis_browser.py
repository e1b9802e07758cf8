"""The KPI page and the monthly table on a 375 px phone, against the demo data: the three
ECharts render from the page's own data (no foreign request), nothing scrolls sideways, the
demo township shows what the articles say. Runs with ``make test-browser``."""

from __future__ import annotations

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD
from xiangzhi.core.tests.browser.conftest import (  # noqa: F401  (shared browser fixtures)
    artifacts_dir,
    browser,
    live_url,
    login,
    no_horizontal_scroll,
    phone,
)

pytestmark = pytest.mark.browser


def test_township_kpis_on_a_phone(phone, artifacts_dir):  # noqa: F811 (fixtures)
    page = phone.page
    login(phone, "baitafan_admin", DEMO_PASSWORD)
    phone.goto(reverse("cases:kpis") + "?period=2025")
    page.wait_for_selector("[data-xz-rendered]")
    page.screenshot(path=artifacts_dir / "cases-kpis-phone.png", full_page=True)
    assert page.locator("[data-xz-rendered]").count() == 3
    assert page.locator("[data-xz-chart] svg").count() == 3
    assert page.locator('[data-kpi="mediation_success_rate"]').inner_text() == "100.00%"
    assert page.locator('[data-kpi="skip_level"]').inner_text() == "0 次"
    assert "个月无越级访" in page.locator("#kpi-skip_level").inner_text()
    assert page.locator("#kpi-backlog tbody tr").count() == 4  # the table fallback is there too
    assert no_horizontal_scroll(page), "KPI page scrolls sideways at 375 px"
    assert not phone.requests.foreign, f"requests left the server: {phone.requests.foreign}"

    phone.goto(reverse("cases:monthly") + "?month=2025-03")
    page.screenshot(path=artifacts_dir / "cases-monthly-phone.png", full_page=True)
    assert page.locator("#monthly-title").inner_text() == "白塔畈镇2025年3月矛盾纠纷排查化解情况表"
    assert page.locator("#monthly-table tbody tr").count() == 12
    assert no_horizontal_scroll(page), "monthly table page scrolls sideways at 375 px"
