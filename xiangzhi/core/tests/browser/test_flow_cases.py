"""End-to-end: a dispute from the 刘冲村 QR page to the villager's tracking timeline
(issue 3 item 12). Runs with ``make test-browser``.

The issue's story: the villager submits on a phone (naming his grid, so the case starts at
grid level) → the grid worker accepts it on his phone and escalates it to the village →
the village secretary does the 交办 (四定), mediates successfully (printable agreement) and
resolves → the township admin closes → the villager's tracking page shows the timeline.
"""

from __future__ import annotations

import re
import time

import pytest
from django.urls import reverse

from xiangzhi.core.demo import DEMO_PASSWORD, LIUCHONG

from .conftest import login, no_horizontal_scroll

pytestmark = pytest.mark.browser

VILLAGER_NAME = "刘小满"
VILLAGER_PHONE = "13987654321"
TITLE = "邻居砌墙堵了我家排水沟"
SECRETARY = "刘德山"
TOWNSHIP_ADMIN = "汪明远"
GRID_WORKER = "陈秀珍"
TERMS = "邻居于三日内拆除堵住排水沟的墙基\n双方共同清理排水沟，费用各半\n今后不再因此事发生争执"
RESOLUTION = "经村调解委员会调解，双方达成协议，排水沟已恢复畅通，群众满意。"


def _act(page, action: str, fill=None, *, open_form: bool = True) -> None:
    """Open a workflow action's htmx form on the case page (unless it is open already),
    fill it, submit, wait for the case page to come back (HX-Redirect)."""
    if open_form:
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


def test_portal_dispute_mediated_closed_and_tracked(devices, artifacts_dir):
    started = time.monotonic()

    # 1. The villager scans the 刘冲村 QR code: the intake page on a phone.
    villager = devices("phone")
    page = villager.page
    villager.goto(reverse("portal:intake", args=[LIUCHONG]))
    assert "刘冲村" in page.locator("main, body").first.inner_text()
    assert no_horizontal_scroll(page), "intake page scrolls sideways at 375 px"
    page.check("input[name=kind][value=dispute]")
    page.fill("#id_title", TITLE)
    page.fill(
        "#id_description", "上个月邻居在两家之间砌了一道墙，把我家门前的排水沟堵死，下雨天院子积水。希望村里调解。"
    )
    page.fill("#id_contact_name", VILLAGER_NAME)
    page.fill("#id_contact_phone", VILLAGER_PHONE)
    page.select_option("#id_grid", label="第一网格")
    page.screenshot(path=artifacts_dir / "cases-1-intake-phone.png", full_page=True)
    with page.expect_navigation():
        page.click("form button[type=submit]")
    code = page.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{10}", code), code
    assert "提交成功" in page.content()
    assert no_horizontal_scroll(page), "the tracking-code page scrolls sideways at 375 px"
    page.screenshot(path=artifacts_dir / "cases-2-tracking-code-phone.png", full_page=True)

    # 2. The grid worker of 刘冲村第一网格 gets it on his phone, accepts it and escalates it.
    grid = devices("phone")
    gp = grid.page
    login(grid, "liuchong_grid1", DEMO_PASSWORD)
    grid.goto(reverse("cases:queue") + f"?q={code}")
    with gp.expect_navigation():
        gp.locator("a.case-link", has_text=TITLE).click()
    case_path = re.sub(r"^https?://[^/]+", "", gp.url)
    assert re.fullmatch(r"/cases/\d+/", case_path), case_path
    assert code in gp.locator("#case-header").inner_text()
    assert "网上" in gp.locator("#case-request").inner_text()  # channel: online
    assert VILLAGER_PHONE not in gp.content(), "the villager's phone is shown unmasked to staff"
    _act(gp, "accept")
    assert "已受理" in gp.locator("#case-header").inner_text()
    _act(gp, "escalate", lambda f: f.locator("textarea[name=reason]").fill("涉及两户宅基地边界，需村里组织调解"))
    assert no_horizontal_scroll(gp), "the case page scrolls sideways at 375 px"

    # 3. The village secretary (first responsible) takes it over at village level.
    secretary = devices("desktop")
    sp = secretary.page
    login(secretary, "liuchong_secretary", DEMO_PASSWORD)
    secretary.goto(case_path)
    assert "村级" in sp.locator(".xz-levels").inner_text()

    def four_fixes(form):
        lead = form.locator("select[name=lead] option", has_text=SECRETARY).first.get_attribute("value")
        form.locator("select[name=lead]").select_option(lead)
        form.locator("select[name=handler]").select_option(lead)
        form.locator("textarea[name=responsibility]").fill("村书记负责组织调解，网格员陈秀珍配合现场查看")
        form.locator("textarea[name=plan]").fill("先现场查看排水沟走向，再召集双方到村调解室调解")
        assert form.locator("input[name=due_date]").input_value(), "no default due date (village time limit)"

    _act(sp, "assign", four_fixes)
    assert SECRETARY in sp.locator("#case-lead").inner_text()
    _act(sp, "start")

    # 4. Mediation succeeds; the printable agreement (调解协议书) opens.
    sp.click("#case-mediations a[href$='/records/mediation/']")
    form = sp.locator("#record-form-mediation")
    form.wait_for()
    form.locator("input[name=place]").fill("刘冲村调解室")
    form.locator("input[name=mediator_names]").fill(GRID_WORKER)
    form.locator("input[name=result][value=success]").check()
    form.locator("textarea[name=facts]").fill("邻居砌墙堵塞申请人门前排水沟，雨天积水。")
    form.locator("textarea[name=terms]").fill(TERMS)
    with sp.expect_navigation():
        form.locator("button[type=submit]").click()
    sp.wait_for_load_state("networkidle")
    assert "调解成功" in sp.locator("#case-mediations").inner_text()
    with sp.context.expect_page() as popup:
        sp.click(".xz-agreement-link")
    agreement = popup.value
    agreement.wait_for_load_state("networkidle")
    assert "人民调解协议书" in agreement.title()
    terms = agreement.locator("#agreement-terms li").all_inner_texts()
    assert len(terms) == 3 and terms[0].startswith("一、") and "拆除" in terms[0], terms
    assert VILLAGER_NAME in agreement.locator("#agreement-parties").inner_text()
    signers = agreement.locator("#agreement-signatures").inner_text()
    assert SECRETARY in signers and GRID_WORKER in signers, signers
    assert "刘冲村人民调解委员会" in agreement.locator("#agreement-committee").inner_text()
    assert re.match(r"二〇\S+年\S+月\S+日", agreement.locator("#agreement-date").inner_text())
    agreement.emulate_media(media="print")
    agreement.screenshot(path=artifacts_dir / "cases-3-agreement-print.png", full_page=True)
    agreement.close()

    _act(sp, "resolve", lambda f: f.locator("textarea[name=note]").fill("经调解达成协议，墙基已拆除"))
    assert "已化解" in sp.locator("#case-header").inner_text()

    # 5. The township admin closes it with a resolution (no note → a Chinese field error first).
    township = devices("desktop")
    tp = township.page
    login(township, "baitafan_admin", DEMO_PASSWORD)
    township.goto(case_path)
    tp.click("#case-actions a[data-action=close]")
    tp.locator("#action-form-close").wait_for()
    tp.click("#action-form-close button[type=submit]")
    tp.locator("#action-form-close .xz-field-error", has_text="办结须填写办理结果").wait_for()
    _act(tp, "close", lambda f: f.locator("textarea[name=resolution]").fill(RESOLUTION), open_form=False)
    assert "已办结" in tp.locator("#case-header").inner_text()
    assert RESOLUTION in tp.locator("#case-header").inner_text()
    tp.screenshot(path=artifacts_dir / "cases-4-closed-desktop.png", full_page=True)

    # 6. The villager tracks it with the code and the phone's last 4 digits.
    villager.goto(reverse("portal:track"))
    page.fill("#id_tracking_code", code)
    page.fill("#id_phone_last4", VILLAGER_PHONE[-4:])
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert page.locator("#case-status").inner_text().strip() == "已办结"
    steps = page.locator("#timeline li")
    texts = [steps.nth(i).locator("strong").inner_text() for i in range(steps.count())]
    assert texts == [
        "网上提交诉求，已登记",
        "已受理",
        "上报村级办理",
        "已交办：明确了包案领导、承办人、化解方案和办理时限",
        "开始办理",
        "组织调解（调解成功）",
        "已化解",
        "已办结",
    ], texts
    timeline = page.locator("#timeline").inner_text()
    assert "群众本人" in timeline and "网格员" in timeline and "村党组织书记" in timeline and "乡镇管理员" in timeline, timeline
    html = page.content()
    for private in (SECRETARY, TOWNSHIP_ADMIN, GRID_WORKER, RESOLUTION, "墙基已拆除", VILLAGER_PHONE):
        assert private not in html, f"the public tracking page shows {private!r}"
    assert no_horizontal_scroll(page), "tracking page scrolls sideways at 375 px"
    page.screenshot(path=artifacts_dir / "cases-5-tracking-phone.png", full_page=True)

    for device in (villager, secretary, grid, township):
        assert device.requests.urls
        assert not device.requests.foreign, f"requests left the server: {device.requests.foreign}"
    assert time.monotonic() - started < 60, "the cases flow should stay under a minute"
