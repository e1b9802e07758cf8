"""The villagers' portal pages: per-village intake (QR), confirmation, tracking, poster,
rate limits, CSRF, and what tracking must never show."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from xiangzhi.cases import services as case_services
from xiangzhi.cases.models import Case, CaseEvent
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B
from xiangzhi.core.views import PUBLIC

pytestmark = pytest.mark.django_db

INTAKE = f"/p/{VILLAGE_A}/"
TRACK = "/p/track/"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def _form(**over):
    data = {
        "kind": "dispute",
        "title": "门前排水沟被邻居堵了",
        "description": "下雨天水流进我家院子，和邻居说了几次没有用。",
        "contact_name": "陈村民",
        "contact_phone": "13912345678",
        "token": "tok-" + "a" * 28,
    }
    data.update(over)
    return data


def _submit(client=None, **over):
    return (client or Client()).post(INTAKE, _form(**over))


def _code(resp) -> str:
    match = re.search(r'id="tracking-code">([0-9A-Z]{10})<', resp.content.decode())
    assert match, resp.content.decode()
    return match.group(1)


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


# --- intake -----------------------------------------------------------------------------
def test_intake_page_names_the_village_and_offers_plain_language_kinds(cast):
    resp = Client().get(INTAKE)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "刘冲村" in html and "白塔畈镇" in html
    for label in ("我有困难需要帮助", "我有矛盾纠纷需要调解", "我要信访反映问题"):
        assert label in html
    assert 'name="csrfmiddlewaretoken"' in html and 'name="token"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "navbar-menu" not in html  # no staff navigation


@pytest.mark.parametrize("path", [f"/p/{TOWNSHIP}000/", "/p/341524111999/", f"/p/{VILLAGE_A}001/", "/p/abc/"])
def test_only_real_villages_have_an_intake_page(cast, path):
    resp = Client().get(path)
    assert resp.status_code == 404
    if path.count("/") == 3 and path[3:-1].isdigit() and len(path[3:-1]) == 12:
        assert "没有找到这个村的服务页面" in resp.content.decode()  # the portal's own page
    assert Client().post(path, _form()).status_code in (403, 404)  # CSRF or not found, never a case
    assert Case.objects.count() == 0


def test_submission_creates_a_village_case_with_the_secretary_first_responsible(cast):
    resp = _submit()
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "请记下查询码" in html and 'href="/p/track/"' in html
    case = Case.objects.get()
    assert _code(resp) == case.tracking_code
    assert case.area_code == VILLAGE_A and case.level == "village" and case.status == "registered"
    assert case.channel == "online" and case.kind == "dispute" and case.created_by is None
    assert case.first_responsible == cast.secretary_a
    assert case.parties.get().name == "陈村民"
    assert b"13912345678" not in bytes(case.contact_phone_enc)  # encrypted at rest
    assert "13912345678" not in html


def test_bad_input_rerenders_with_chinese_messages_and_writes_nothing(cast):
    resp = _submit(contact_phone="", title="", kind="bogus")
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "请填写手机号码" in html and "请用一句话说明是什么事" in html and "请选择一项" in html
    assert Case.objects.count() == 0
    resp = _submit(contact_phone="12345")
    assert resp.status_code == 400 and Case.objects.count() == 0
    assert "号码" in resp.content.decode()


def test_double_submission_with_the_same_form_token_makes_one_case(cast):
    first, second = _submit(), _submit()
    assert _code(first) == _code(second)
    assert Case.objects.count() == 1
    assert Case.objects.get().events.filter(action="register").count() == 1
    third = _submit(token="tok-" + "b" * 28)  # a fresh form: a new case
    assert _code(third) != _code(first) and Case.objects.count() == 2


def test_photos_are_attached_and_wrong_files_refused_without_a_case(cast):
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    resp = Client().post(INTAKE, {**_form(), "photos": [photo]})
    assert resp.status_code == 200
    assert Case.objects.get().attachments.get().content_type == "image/png"
    fake = SimpleUploadedFile("x.jpg", b"MZ not an image", content_type="image/jpeg")
    resp = Client().post(INTAKE, {**_form(token="tok-" + "c" * 28), "photos": [fake]})
    assert resp.status_code == 400 and "不支持的文件类型" in resp.content.decode()
    assert Case.objects.count() == 1


def test_csrf_stays_on(cast):
    client = Client(enforce_csrf_checks=True)
    assert client.post(INTAKE, _form()).status_code == 403
    assert client.post(TRACK, {"tracking_code": "ABCDEFGHJK", "phone_last4": "5678"}).status_code == 403
    assert Case.objects.count() == 0


# --- tracking ---------------------------------------------------------------------------
def test_tracking_shows_status_and_public_timeline(cast):
    code = _code(_submit())
    case = Case.objects.get()
    case_services.case_accept(actor=cast.secretary_a, case=case)
    resp = Client().post(TRACK, {"tracking_code": code.lower(), "phone_last4": "5678"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert code in html and "门前排水沟被邻居堵了" in html and "矛盾纠纷" in html
    assert "已受理" in html and "村级" in html
    assert "网上提交诉求，已登记" in html and "群众本人" in html and "村党组织书记" in html
    assert timezone.localtime(case.received_at).strftime("%Y-%m-%d") in html


def test_wrong_last4_and_unknown_code_get_the_same_answer(cast):
    code = _code(_submit())
    wrong = Client().post(TRACK, {"tracking_code": code, "phone_last4": "0000"})
    unknown = Client().post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"})
    assert wrong.status_code == unknown.status_code == 200
    assert "查询码或手机号后四位不正确" in wrong.content.decode()
    assert _without_csrf(wrong.content.decode()).replace(code, "ZZZZZZZZZZ") == _without_csrf(unknown.content.decode())
    missing = Client().post(TRACK, {"tracking_code": code})
    assert missing.status_code == 400 and "请输入手机号后四位" in missing.content.decode()


def test_tracking_needs_post_and_both_values(cast):
    code = _code(_submit())
    resp = Client().get(TRACK, {"tracking_code": code, "phone_last4": "5678"})
    assert resp.status_code == 200 and "门前排水沟" not in resp.content.decode()  # GET only shows the form
    assert "门前排水沟" not in Client().post(TRACK, {"tracking_code": code, "phone_last4": ""}).content.decode()


def test_tracking_never_shows_other_parties_staff_names_notes_or_internal_events(cast):
    cast.secretary_a.full_name = "刘书记"
    cast.secretary_a.save(update_fields=["full_name"])
    cast.grid_worker_a1.full_name = "王网格"
    cast.grid_worker_a1.save(update_fields=["full_name"])
    case = case_services.case_register(
        actor=cast.grid_worker_a1, kind="dispute", channel="grid_report", area_code=cast.grid_a1.code,
        title="宅基地边界纠纷", description="与张三丰家宅基地边界争议", contact_name="陈村民",
        contact_phone="13912345678",
        parties=[{"name": "陈村民", "role": "applicant"}, {"name": "张三丰", "role": "respondent"}],
    )  # fmt: skip
    sec = cast.secretary_a
    case = case_services.case_accept(actor=sec, case=case, note="张三丰态度强硬")
    case = case_services.case_assign(
        actor=sec, case=case, lead=sec, handler=cast.grid_worker_a1, responsibility="王网格负责",
        plan="约张三丰到村部面谈", due_at=timezone.now() + timedelta(days=5),
    )  # fmt: skip
    case = case_services.case_request_extension(actor=sec, case=case, days=5, reason="张三丰外出务工")
    case = case_services.case_supervise(actor=cast.township_admin, case=case, mark="red", note="红牌督办")
    case_services.meeting_add(actor=sec, case=case, kind="secretary_talk", held_at=timezone.now(), place="村部",
                              participants="张三丰、陈村民", minutes="张三丰同意退让半米")  # fmt: skip
    case_services.skip_level_record(actor=sec, case=case, occurred_on=timezone.localdate(), destination="县信访局")
    assert CaseEvent.objects.filter(case=case, public=False).count() >= 3

    resp = Client().post(TRACK, {"tracking_code": case.tracking_code, "phone_last4": "5678"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "宅基地边界纠纷" in html and "召开书记约谈" in html and "已交办" in html
    for secret in ("张三丰", "刘书记", "王网格", "secretary_a", "grid_a1", "13912345678", "1391", "陈村民",
                   "延期", "督办", "越级", "县信访局", "态度强硬", "退让", "村部面谈", "边界争议"):  # fmt: skip
        assert secret not in html, secret
    assert "村党组织书记" in html and "网格员" in html


# --- QR code and poster -----------------------------------------------------------------
def test_qr_code_is_an_svg_of_the_intake_url(cast):
    resp = Client().get(f"/p/{VILLAGE_A}/qr.svg")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/svg+xml"
    svg = resp.content.decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert f"http://testserver/p/{VILLAGE_A}/" in svg
    assert Client().get(f"/p/{VILLAGE_B}/qr.svg").content != resp.content
    assert Client().get(f"/p/{TOWNSHIP}000/qr.svg").status_code == 404


def test_poster_is_printable_with_village_name_qr_and_instructions(cast):
    resp = Client().get(f"/p/{VILLAGE_A}/poster/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "刘冲村" in html and f'src="/p/{VILLAGE_A}/qr.svg"' in html
    assert "记下查询码" in html and f"http://testserver/p/{VILLAGE_A}/" in html and "window.print()" in html


# --- rate limits ------------------------------------------------------------------------
def test_tracking_is_rate_limited_per_ip(cast):
    client = Client()
    for _ in range(10):
        assert client.post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"}).status_code == 200
    resp = client.post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"})
    assert resp.status_code == 429
    assert "操作过于频繁" in resp.content.decode() and int(resp["Retry-After"]) >= 1
    other = Client(REMOTE_ADDR="10.0.0.9")
    assert other.post(TRACK, {"tracking_code": "ZZZZZZZZZZ", "phone_last4": "0000"}).status_code == 200


def test_intake_is_rate_limited_per_ip(cast):
    for i in range(5):
        assert _submit(token=f"tok-{i:028d}").status_code == 200
    resp = _submit(token="tok-" + "x" * 28)
    assert resp.status_code == 429 and "操作过于频繁" in resp.content.decode()
    assert Case.objects.count() == 5
    assert Client().get(INTAKE).status_code == 200  # reading the page is never limited


# --- route census -----------------------------------------------------------------------
def _patterns(resolver, prefix=""):
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def test_every_portal_route_is_classified_public():
    routes = [(path, p) for path, p in _patterns(get_resolver()) if p.callback.__module__ == "xiangzhi.portal.views"]
    assert sorted(path for path, _ in routes) == [
        "p/^(?P<village_code>[0-9]{12})/$",
        "p/^(?P<village_code>[0-9]{12})/poster/$",
        "p/^(?P<village_code>[0-9]{12})/qr\\.svg$",
        "p/track/",
    ]
    for path, p in routes:
        assert getattr(p.callback, "xz_access", None) == PUBLIC, path
