"""A grid worker registers a dispute from a 375 px phone: finds the household by pinyin
initials, picks a member as applicant, adds a photo, submits; then accepts it through the
htmx action form and sees a Chinese field error in place. Runs with ``make test-browser``."""

from __future__ import annotations

import re

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

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256


def test_grid_worker_registers_and_accepts_a_case_on_phone(phone, artifacts_dir):  # noqa: F811 (fixtures)
    page = phone.page
    login(phone, "liuchong_grid1", DEMO_PASSWORD)
    phone.goto(reverse("cases:create"))
    assert no_horizontal_scroll(page), "registration form scrolls sideways at 375 px"

    search = page.locator("#hh-q")
    search.click()
    search.press_sequentially("lcx", delay=60)
    pick = page.locator(".xz-household-pick", has_text=FEATURED_HEAD)
    pick.first.wait_for()
    search.press("Enter")  # must not submit the case form
    assert page.url.endswith(reverse("cases:create"))
    pick.first.click()
    page.locator("#household-picked").wait_for()
    assert FEATURED_HEAD in page.locator("#household-picked").inner_text()
    members = page.locator("#id_party-0-resident option").all_inner_texts()
    assert FEATURED_HEAD in members, members
    page.select_option("#id_party-0-resident", label=FEATURED_HEAD)
    page.fill("#id_party-1-name", "外村王某")
    if page.locator("#id_category option").count() > 1:
        page.select_option("#id_category", index=1)
    page.fill("#id_title", "排水沟堵塞引发邻里纠纷（浏览器测试）")
    page.fill("#id_description", "雨天积水进屋，要求恢复原排水沟。")
    page.set_input_files("#photos-files", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    page.screenshot(path=artifacts_dir / "case-register-phone.png", full_page=True)
    with page.expect_navigation():
        page.click("#case-submit")
    page.wait_for_load_state("networkidle")
    assert re.search(r"/cases/\d+/$", page.url), page.url
    code = page.locator("#case-tracking-code").inner_text()
    assert re.fullmatch(r"[2-9A-Z]{10}", code)
    assert page.locator(".xz-thumb").count() == 1
    parties = page.locator("#case-parties").inner_text()
    assert FEATURED_HEAD in parties and "外村王某" in parties
    assert no_horizontal_scroll(page), "case page scrolls sideways at 375 px"

    page.click("a[data-action=escalate]")
    page.locator("#action-form-escalate").wait_for()
    page.click("#action-form-escalate button[type=submit]")  # no reason: 400 swapped in place
    page.locator("#action-form-escalate .xz-field-error", has_text="请填写上报理由").wait_for()

    page.click("a[data-action=accept]")
    page.locator("#action-form-accept").wait_for()
    with page.expect_navigation():
        page.click("#action-form-accept button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已受理" in page.locator("#case-header").inner_text()
    page.screenshot(path=artifacts_dir / "case-accepted-phone.png", full_page=True)
    assert not phone.requests.foreign, f"requests left the server: {phone.requests.foreign}"
