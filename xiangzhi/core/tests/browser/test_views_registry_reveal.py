"""(Residents engineer's file.) The registry's own JavaScript behaviour in a real Chromium (``make test-browser``):
the audited reveal over htmx (including the 422 field error being shown), and full ID
numbers typed into the search box travelling only by POST, never in a URL."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD

from .conftest import Phone, RequestLog, login

pytestmark = pytest.mark.browser

FULL_ID = re.compile(r"^\d{17}[\dX]$")


@pytest.fixture
def desktop(browser, live_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    requests = RequestLog()
    context.route("**/*", requests.route)
    yield Phone(page=context.new_page(), base_url=live_url, requests=requests)
    context.close()


def test_reveal_and_id_lookup_keep_the_id_out_of_urls(desktop, artifacts_dir):
    page = desktop.page
    login(desktop, "liuchong_secretary", DEMO_PASSWORD)
    desktop.goto(reverse("residents:household_list"))
    with page.expect_navigation():
        page.locator("a.household-link").first.click()
    household_url = page.url
    assert "/residents/h/" in household_url

    page.locator(".xz-reveal-btn:visible").first.click()
    form = page.locator(".xz-reveal-form")
    form.locator("button[type=submit]").click()
    assert "请填写查看原因" in page.locator(".xz-reveal-field-error").inner_text()  # the 422 is shown
    assert page.locator(".xz-revealed-id").count() == 0
    form.locator("input[name=reason]").fill("核对低保申请材料")
    form.locator("button[type=submit]").click()
    full = page.locator(".xz-revealed-id").first.inner_text().strip()
    assert FULL_ID.match(full), full
    page.screenshot(path=artifacts_dir / "registry-reveal-desktop.png", full_page=True)

    # typed slowly, an ID in progress never starts a live search
    desktop.goto(reverse("residents:household_list"))
    search = page.locator("#registry-search")
    search.press_sequentially(full[:12], delay=40)
    page.wait_for_timeout(800)
    # the full number + Enter goes to the exact lookup by POST and lands on the household
    search.fill(full)
    search.press("Enter")
    page.wait_for_url(household_url)
    page.wait_for_load_state("networkidle")
    leaked = [u for u in desktop.requests.urls if full[:12] in u or full in u]
    assert not leaked, f"ID digits in request URLs: {leaked}"
    assert not desktop.requests.foreign
