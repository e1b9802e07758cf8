"""End-to-end: a visit with a problem becomes a need case, and closing the case raises
"problems solved" on the coverage page (issue 5 item 11). Runs with ``make test-browser``.

The story: the grid worker of 刘冲村第一网格 (liuchong_grid1, 陈秀珍) visits one of her
连心户 and logs it on her phone (375 px) with a problem found → on the visit she turns the
problem into a ``need`` case with one tap → the village secretary (liuchong_secretary)
handles the case through the case pages — accept, 交办 (四定), start, resolve, close — and
the coverage page (走访覆盖与统计) of 刘冲村 for this year counts one more problem found and,
once the case is closed, one more problem solved.
"""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD

from .conftest import login, no_horizontal_scroll

pytestmark = pytest.mark.browser

PROBLEM = "老人独居，屋后排水沟堵塞，雨天积水进屋"
SUMMARY = "入户走访，了解老人生活和用水用电情况"
SECRETARY = "刘德山"
RESOLUTION = "村里组织志愿者清理了屋后排水沟，老人屋内不再积水，群众满意。"


def _problems(page) -> tuple[int, int]:
    """(found, solved) from the coverage page's 发现问题 / 已解决 card."""
    text = page.locator("#kpi-problems").inner_text()
    found, solved = (int(x) for x in re.findall(r"\d+", text)[:2])
    return found, solved


def _coverage(device) -> tuple[int, int]:
    device.goto(reverse("visits:coverage"))
    return _problems(device.page)


def _act(page, action: str, fill=None) -> None:
    """Open a workflow action's htmx form on the case page, fill it, submit, wait for the
    case page to come back (as in the cases flow)."""
    page.click(f"#case-actions a[data-action={action}]")
    form = page.locator(f"#action-form-{action}")
    form.wait_for()
    if fill:
        fill(form)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    errors = page.locator(".xz-field-error, .xz-form-errors")
    assert errors.count() == 0, f"{action}: {errors.all_inner_texts()}"


def test_visit_problem_becomes_a_case_and_closing_it_counts_as_solved(devices, artifacts_dir):
    started = time.monotonic()

    # 0. The secretary reads 刘冲村's coverage for this year first.
    secretary = devices("phone")
    sp = secretary.page
    login(secretary, "liuchong_secretary", DEMO_PASSWORD)
    found0, solved0 = _coverage(secretary)
    assert "走访群众" in sp.locator("#headline-text").inner_text()

    # 1. The grid worker logs a visit to one of her 连心户 on her phone, with a problem.
    grid = devices("phone")
    gp = grid.page
    login(grid, "liuchong_grid1", DEMO_PASSWORD)
    grid.goto(reverse("visits:create"))
    assert no_horizontal_scroll(gp), "the visit form scrolls sideways at 375 px"
    first = gp.locator("#contact-households input[name=households]").first
    first.check()
    head = gp.locator("#contact-households label.form-check").first.locator(".form-check-label").inner_text()
    gp.fill("#id_summary", SUMMARY)
    gp.locator("#problem-rows input[name=problems]").first.fill(PROBLEM)
    gp.screenshot(path=artifacts_dir / "visits-1-form-phone.png", full_page=True)
    with gp.expect_navigation(url=re.compile(r"/visits/\d+/$")):
        gp.click("#visit-submit")
    visit_path = re.sub(r"^https?://[^/]+", "", gp.url)
    assert head.split()[0] in gp.locator("#visit-households").inner_text()
    row = gp.locator(".problem-row", has_text=PROBLEM)
    assert row.count() == 1

    # 2. One tap: the problem becomes a need case, linked both ways.
    with gp.expect_navigation():
        row.locator("button.problem-to-case").click()
    row = gp.locator(".problem-row", has_text=PROBLEM)
    link = row.locator("a[href^='/cases/']")
    code = re.search(r"[2-9A-Z]{10}", link.inner_text()).group(0)
    case_path = link.get_attribute("href")
    assert re.fullmatch(r"/cases/\d+/", case_path), case_path
    assert "已登记" in row.locator(".problem-status").inner_text()
    assert row.locator("button.problem-to-case").count() == 0, "a converted problem still offers the tap"
    assert no_horizontal_scroll(gp), "the visit page scrolls sideways at 375 px"
    gp.screenshot(path=artifacts_dir / "visits-2-problem-case-phone.png", full_page=True)
    grid.goto(case_path)
    assert code in gp.locator("#case-header").inner_text()
    assert "走访发现" in gp.locator("#case-request").inner_text()  # channel: visit

    # the problem counts as found, not yet as solved
    assert _coverage(secretary) == (found0 + 1, solved0)

    # 3. The secretary handles the case through the case pages and closes it.
    secretary.goto(case_path)
    assert PROBLEM in sp.locator("#case-request").inner_text()
    _act(sp, "accept")

    def four_fixes(form):
        lead = form.locator("select[name=lead] option", has_text=SECRETARY).first.get_attribute("value")
        form.locator("select[name=lead]").select_option(lead)
        form.locator("select[name=handler]").select_option(lead)
        form.locator("textarea[name=responsibility]").fill("村书记负责，网格员陈秀珍配合")
        form.locator("textarea[name=plan]").fill("组织志愿者清理屋后排水沟")

    _act(sp, "assign", four_fixes)
    _act(sp, "start")
    _act(sp, "resolve", lambda f: f.locator("textarea[name=note]").fill("排水沟已清理"))
    _act(sp, "close", lambda f: f.locator("textarea[name=resolution]").fill(RESOLUTION))
    assert "已办结" in sp.locator("#case-header").inner_text()
    assert no_horizontal_scroll(sp), "the case page scrolls sideways at 375 px"

    # 4. The coverage page counts it as solved; the visit shows it as solved too.
    assert _coverage(secretary) == (found0 + 1, solved0 + 1)
    assert no_horizontal_scroll(sp), "the coverage page scrolls sideways at 375 px"
    sp.screenshot(path=artifacts_dir / "visits-3-coverage-phone.png", full_page=True)
    grid.goto(visit_path)
    assert "已解决" in gp.locator(".problem-row", has_text=PROBLEM).locator(".problem-status").inner_text()

    for device in (grid, secretary):
        assert device.requests.urls
        assert not device.requests.foreign, f"requests left the server: {device.requests.foreign}"
    assert time.monotonic() - started < 60, "the visits flow should stay under a minute"
