"""A grid worker logs a visit from a 375 px phone while the network is down: the draft (with
its photo) is kept on the phone, sent when the connection comes back, lands once, and its
problem becomes a case in one tap. Runs with ``make test-browser``."""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD, FEATURED_HEAD
from xiangzhi.core.tests.browser.conftest import (  # noqa: F401  (shared browser fixtures)
    artifacts_dir,
    browser,
    live_url,
    login,
    no_horizontal_scroll,
    phone,
)

pytestmark = pytest.mark.browser

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_offline_visit_draft_is_sent_once_when_back_online(phone, artifacts_dir):  # noqa: F811 (fixtures)
    page = phone.page
    summary = f"断网走访测试 {time.time_ns()}"
    login(phone, "liuchong_grid1", DEMO_PASSWORD)
    phone.goto(reverse("visits:create"))
    assert no_horizontal_scroll(page), "visit form scrolls sideways at 375 px"

    search = page.locator("#household-search")
    search.click()
    search.press_sequentially("lcx", delay=60)
    option = page.locator(".household-option", has_text=FEATURED_HEAD).first
    option.wait_for()
    option.click()
    picked = page.locator("#contact-households input:checked, #picked-households input[name=households]")
    assert picked.count() == 1
    page.fill("#id_summary", summary)
    page.locator("input[name=problems]").first.fill("自来水管破裂，需要维修")
    page.set_input_files("#photos-files", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])

    page.context.set_offline(True)
    page.click("#visit-submit")
    status = page.locator("#draft-status")
    status.filter(has_text="草稿已保存，恢复网络后自动提交").wait_for()
    page.screenshot(path=artifacts_dir / "visit-offline-draft-phone.png", full_page=True)

    page.context.set_offline(False)  # the browser fires `online`: the draft is sent
    status.filter(has_text="离线保存的走访已提交").wait_for()
    href = page.locator("#draft-status a").get_attribute("href")
    assert re.fullmatch(r"/visits/\d+/", href), href

    phone.goto(href)
    assert page.locator("#visit-summary").inner_text().strip() == summary
    assert page.locator("#visit-photos img").count() == 1
    assert FEATURED_HEAD in page.locator("#visit-households").inner_text()

    # a later page load re-sends nothing: the visit is listed once
    phone.goto(reverse("visits:home"))
    page.wait_for_load_state("networkidle")
    assert page.locator(".visit-row", has_text=summary).count() == 1

    # one tap: the problem becomes a case
    phone.goto(href)
    page.click(".problem-to-case")
    page.wait_for_load_state("networkidle")
    assert page.locator(".problem-status").first.inner_text() == "已登记"
    assert page.locator("#visit-problems a", has_text="查看事项").count() == 1
    assert not phone.requests.foreign
