"""A grid worker on a 375 px phone finds a household by pinyin initials and opens its
一户一档 page (issue 2 item 13). Runs with ``make test-browser``."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD, FEATURED_HEAD

from .conftest import login, no_horizontal_scroll

pytestmark = pytest.mark.browser

MASKED_ID = re.compile(r"\b\d{6}\*{8}[0-9X]{3}[0-9X]\b")
# An unmasked 18-digit ID: region, a plausible birth date, sequence, check character.
FULL_ID = re.compile(r"(?<!\d)\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")


def test_grid_worker_finds_household_by_initials_on_phone(phone, artifacts_dir):
    page = phone.page
    login(phone, "liuchong_grid1", DEMO_PASSWORD)

    phone.goto(reverse("residents:household_list"))
    before = page.locator("a.household-link").count()
    assert before > 1, "the grid worker sees the households of the grid"
    assert no_horizontal_scroll(page), "registry list scrolls sideways at 375 px"

    search = page.locator("#registry-search")
    search.click()
    search.press_sequentially("lcx", delay=60)
    # htmx live search (no Enter needed): results are swapped in, then the URL is pushed
    page.wait_for_url(re.compile(r"[?&]q=lcx(&|$)"))
    page.wait_for_load_state("networkidle")
    link = page.locator("a.household-link", has_text=FEATURED_HEAD)
    page.screenshot(path=artifacts_dir / "registry-search-phone.png", full_page=True)
    names = page.locator("a.household-link").all_inner_texts()
    assert FEATURED_HEAD in names
    assert len(names) < before, f"'lcx' should narrow the list of {before}, got {names}"

    with page.expect_navigation():
        link.first.click()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts_dir / "registry-phone.png", full_page=True)

    assert FEATURED_HEAD in page.locator("#household-title").inner_text()
    assert "一户一档" in page.title()
    visible = page.locator("#household-members").inner_text()
    assert MASKED_ID.search(visible), f"no masked ID number visible on the phone:\n{visible}"
    html = page.content()
    assert not FULL_ID.search(html), "an unmasked ID number is in the page"
    assert not re.search(r"\d{15,}", page.url), "an ID-like number is in the URL"
    assert no_horizontal_scroll(page), "一户一档 page scrolls sideways at 375 px"

    assert phone.requests.urls, "the request log saw the page's requests"
    assert not phone.requests.foreign, f"requests left the server: {phone.requests.foreign}"


def test_login_page_on_phone_is_local_and_fits(phone):
    page = phone.page
    phone.goto(reverse("accounts:login"))
    assert page.locator("#id_username").is_visible()
    page.wait_for_load_state("networkidle")
    assert no_horizontal_scroll(page), "login page scrolls sideways at 375 px"
    static = [u for u in phone.requests.urls if "/static/" in u]
    assert static, "the login page loads its CSS from /static/"
    assert not phone.requests.foreign, f"requests left the server: {phone.requests.foreign}"


def test_api_docs_page_loads_without_a_cdn(phone):
    """/api/v1/docs renders Swagger UI from the app's own static files."""
    page = phone.page
    phone.goto("/api/v1/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "乡治 API" in page.locator(".swagger-ui .info .title").inner_text()
    assert not phone.requests.foreign, f"requests left the server: {phone.requests.foreign}"


def test_long_list_gets_its_total_after_the_first_page(phone):
    """The first page of a township's registry is sent without counting; htmx fetches the
    total right after and puts it in place (ADR 0010)."""
    page = phone.page
    login(phone, "baitafan_admin", DEMO_PASSWORD)
    phone.goto(reverse("residents:household_list"))
    summary = page.locator("#registry-summary")
    page.wait_for_function(
        "() => !document.querySelector('#registry-summary').textContent.includes('…')", timeout=10_000
    )
    text = summary.inner_text()
    total = re.search(r"共 (\d+) 户", text)
    assert total and int(total.group(1)) > 20, f"the township's total did not arrive: {text!r}"
    assert "第 1–20 户" in text
    assert not phone.requests.foreign
