"""Cadre pages: scope for every view (secretary_a sees 刘冲村 only, secretary_b not; villager
403; anonymous → login), roster filters, create/edit with Chinese messages and nothing
written on bad input, post history, 两委, analytics (the article's 果子园乡 figures), growth,
recognitions with the sentence from data, registers, query-count bounds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cadres import reference, services
from xiangzhi.cadres.models import Cadre, Commitment, FourOnes, Post, Recognition
from xiangzhi.core import periods
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B

pytestmark = pytest.mark.django_db
TODAY = periods.local_today()


def make_cadre(
    area,
    name,
    birth,
    *,
    title="村委委员",
    leadership=True,
    secretary=False,
    director=False,
    honorary="",
    college=False,
    establishment=None,
    start=date(2021, 1, 10),
    education="bachelor",
    **kw,
):
    cadre = services.cadre_create(
        actor=None,
        area_code=area,
        name=name,
        sex="male",
        birth_date=birth,
        education=education,
        establishment=establishment or ("village" if len(area) == 12 else "civil_service"),
        college_graduate=college,
        **kw,
    )
    services.post_add(
        actor=None,
        cadre=cadre,
        title=title,
        start=start,
        leadership=leadership,
        is_secretary=secretary,
        is_director=director,
        honorary=honorary,
    )
    return cadre


@pytest.fixture
def roster(cast):
    return {
        "a_secretary": make_cadre(
            VILLAGE_A,
            "刘书记",
            date(1985, 3, 1),
            title="村党总支书记、村委会主任",
            secretary=True,
            director=True,
            college=True,
        ),
        "a_young": make_cadre(
            VILLAGE_A,
            "刘青年",
            TODAY.replace(year=TODAY.year - 28) - timedelta(days=3),
            title="村委委员",
            leadership=False,
        ),
        "a_honorary": make_cadre(
            VILLAGE_A, "名誉甲", date(1960, 5, 5), title="名誉书记", leadership=False, honorary="honorary_secretary"
        ),
        "b_secretary": make_cadre(VILLAGE_B, "大岗书记", date(1975, 1, 1), title="村党支部书记", secretary=True),
        "township": make_cadre(TOWNSHIP, "镇干部甲", date(1995, 7, 7), title="党委委员"),
    }


def test_roster_is_scoped_by_village(cast, roster, client_for):
    a = client_for(cast.secretary_a).get(reverse("cadres:roster"))
    assert a.status_code == 200
    text = a.content.decode()
    assert "刘书记" in text and "刘青年" in text
    assert "大岗书记" not in text and "镇干部甲" not in text
    b = client_for(cast.secretary_b).get(reverse("cadres:roster")).content.decode()
    assert "大岗书记" in b and "刘书记" not in b
    admin = client_for(cast.township_admin).get(reverse("cadres:roster")).content.decode()
    assert all(n in admin for n in ("刘书记", "大岗书记", "镇干部甲"))


def test_roster_columns_and_filters(cast, roster, client_for):
    c = client_for(cast.township_admin)
    text = c.get(reverse("cadres:roster"), {"area": VILLAGE_A}).content.decode()
    for header in (
        "姓名",
        "性别",
        "出生年月",
        "年龄",
        "学历",
        "全日制大学生",
        "政治面貌",
        "编制",
        "职务",
        "班子成员",
        "一肩挑",
        "任职时间",
    ):
        assert header in text
    assert "一肩挑</span>" in text and "1985.03" in text
    young = c.get(reverse("cadres:roster"), {"young": "1"}).content.decode()
    assert "刘青年" in young and "镇干部甲" in young and "刘书记" not in young
    leaders = c.get(reverse("cadres:roster"), {"leadership": "1", "area": VILLAGE_A}).content.decode()
    assert "刘书记" in leaders and "刘青年" not in leaders
    township = c.get(reverse("cadres:roster"), {"level": "township"}).content.decode()
    assert "镇干部甲" in township and "刘书记" not in township
    # htmx asks for the results only
    part = c.get(reverse("cadres:roster"), {"q": "刘"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="roster-results")
    assert "<html" not in part.content.decode() and "刘书记" in part.content.decode()


def test_cadre_detail_scope(cast, roster, client_for):
    url = reverse("cadres:detail", args=[roster["b_secretary"].pk])
    assert client_for(cast.secretary_a).get(url).status_code == 404
    assert client_for(cast.secretary_b).get(url).status_code == 200
    assert client_for(cast.villager).get(url).status_code == 403
    anon = client_for  # noqa: F841
    from django.test import Client

    resp = Client().get(url)
    assert resp.status_code == 302 and reverse("accounts:login") in resp.url


@pytest.mark.parametrize(
    "name",
    [
        "cadres:roster",
        "cadres:committee",
        "cadres:analytics",
        "cadres:growth",
        "cadres:lectures",
        "cadres:commitments",
        "cadres:mentorships",
        "cadres:secondments",
        "cadres:recognitions",
    ],
)
def test_staff_pages_refuse_villagers_and_serve_secretaries(cast, roster, client_for, name):
    assert client_for(cast.villager).get(reverse(name)).status_code == 403
    assert client_for(cast.nobody).get(reverse(name)).status_code == 403
    assert client_for(cast.secretary_a).get(reverse(name)).status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "cadres:create",
        "cadres:import",
        "cadres:four_ones_add",
        "cadres:lecture_add",
        "cadres:commitment_add",
        "cadres:mentorship_add",
        "cadres:secondment_add",
        "cadres:registers",
        "cadres:roster_export",
    ],
)
def test_write_and_export_pages_need_the_permission(cast, roster, client_for, name):
    # a village secretary reads the roster but does not keep it (no add/change/export_cadre)
    assert client_for(cast.secretary_a).get(reverse(name)).status_code == 403
    assert client_for(cast.township_admin).get(reverse(name)).status_code == 200


def test_out_of_scope_unit_in_query_is_404(cast, roster, client_for):
    c = client_for(cast.secretary_a)
    assert c.get(reverse("cadres:analytics"), {"area": VILLAGE_B}).status_code == 404
    assert c.get(reverse("cadres:committee"), {"area": VILLAGE_B}).status_code == 404
    assert c.get(reverse("cadres:growth"), {"area": VILLAGE_B}).status_code == 404


def test_create_cadre_with_first_post(cast, client_for):
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("cadres:create"),
        {
            "area_code": VILLAGE_A,
            "name": "新委员",
            "sex": "female",
            "birth_date": "1995-04-02",
            "education": "bachelor",
            "establishment": "village",
            "college_graduate": "on",
            "party_member": "on",
            "post-title": "村委委员",
            "post-start": "2023-01-05",
            "post-leadership": "on",
        },
    )
    cadre = Cadre.objects.get(name="新委员")
    assert resp.status_code == 302 and resp.url == reverse("cadres:detail", args=[cadre.pk])
    assert cadre.posts.get().title == "村委委员" and cadre.college_graduate
    assert AuditEvent.objects.filter(action="cadres.cadre_create").exists()


def test_create_cadre_twelve_years_old_is_refused_and_nothing_written(cast, client_for):
    c = client_for(cast.township_admin)
    birth = TODAY.replace(year=TODAY.year - 12) - timedelta(days=1)
    resp = c.post(
        reverse("cadres:create"),
        {
            "area_code": VILLAGE_A,
            "name": "小孩",
            "sex": "male",
            "birth_date": birth.isoformat(),
            "education": "junior",
            "establishment": "village",
            "post-title": "村委委员",
            "post-start": "2023-01-05",
        },
    )
    assert resp.status_code == 400
    assert "年龄仅 12 岁" in resp.content.decode()
    assert not Cadre.objects.exists() and not Post.objects.exists()


def test_create_cadre_post_error_rolls_back(cast, client_for):
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("cadres:create"),
        {
            "area_code": VILLAGE_A,
            "name": "错任职",
            "sex": "male",
            "birth_date": "1990-01-01",
            "education": "bachelor",
            "establishment": "village",
            "post-title": "村委委员",
            "post-start": (TODAY + timedelta(days=5)).isoformat(),
        },
    )
    assert resp.status_code == 400 and "任职时间不能晚于今天" in resp.content.decode()
    assert not Cadre.objects.exists()


def test_bad_form_input_gets_chinese_messages(cast, client_for):
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("cadres:create"),
        {
            "area_code": VILLAGE_B + "9",
            "name": "",
            "sex": "x",
            "birth_date": "1987.13.45",
            "education": "?",
            "establishment": "",
        },
    )
    text = resp.content.decode()
    assert resp.status_code == 400
    assert "请填写姓名" in text and "出生日期格式不正确" in text and "请选择编制" in text
    assert not Cadre.objects.exists()


def test_edit_and_post_history(cast, roster, client_for):
    c = client_for(cast.township_admin)
    cadre = roster["a_secretary"]
    resp = c.post(
        reverse("cadres:update", args=[cadre.pk]),
        {
            "name": "刘书记",
            "sex": "male",
            "birth_date": "1985-03-01",
            "education": "postgraduate",
            "establishment": "village",
            "college_graduate": "on",
            "party_member": "on",
        },
    )
    assert resp.status_code == 302
    cadre.refresh_from_db()
    assert cadre.education == "postgraduate"
    post = cadre.posts.get()
    resp = c.post(reverse("cadres:post_end", args=[post.pk]), {"end": "2024-01-01"})
    assert resp.status_code == 302
    resp = c.post(
        reverse("cadres:post_add", args=[cadre.pk]),
        {
            "area_code": VILLAGE_A,
            "title": "村党总支书记",
            "start": "2024-01-01",
            "leadership": "on",
            "is_secretary": "on",
            "honorary": "",
        },
    )
    assert resp.status_code == 302
    assert cadre.posts.count() == 2  # history kept
    page = c.get(reverse("cadres:detail", args=[cadre.pk])).content.decode()
    assert "2024-01-01" in page and "村党总支书记、村委会主任" in page and "在任" in page
    # ending twice is a field message
    resp = c.post(reverse("cadres:post_end", args=[post.pk]), {"end": "2024-02-01"})
    assert resp.status_code == 400 and "该职务已离任" in resp.content.decode()


def test_secretary_cannot_edit_or_end_posts(cast, roster, client_for):
    c = client_for(cast.secretary_a)
    cadre = roster["a_secretary"]
    assert c.get(reverse("cadres:update", args=[cadre.pk])).status_code == 403
    assert c.post(reverse("cadres:post_end", args=[cadre.posts.get().pk]), {"end": "2024-01-01"}).status_code == 403
    # township admin of another township would get 404: here secretary_b with no change perm gets 403 first
    assert client_for(cast.secretary_b).get(reverse("cadres:post_add", args=[cadre.pk])).status_code == 403


def test_committee_of_a_village_and_the_township_summary(cast, roster, client_for):
    c = client_for(cast.secretary_a)
    text = c.get(reverse("cadres:committee"), {"area": VILLAGE_A}).content.decode()
    assert "刘书记" in text and "名誉书记" in text and "一肩挑" in text
    summary = client_for(cast.township_admin).get(reverse("cadres:committee"), {"area": TOWNSHIP}).content.decode()
    assert "刘冲村" in summary and "大岗村" in summary and "书记主任“一肩挑” 1 个" in summary


def _load_guoziyuan():
    for p in reference.guoziyuan_roster():
        cadre = Cadre.objects.create(
            area_code=reference.TOWNSHIP,
            level="township",
            name=p["name"],
            sex=p["sex"],
            birth_date=p["birth_date"],
            education=p["education"],
            establishment=p["establishment"],
            party_member=p["party_member"],
            college_graduate=p["college_graduate"],
        )
        Post.objects.create(
            cadre=cadre, area_code=reference.TOWNSHIP, title=p["title"], leadership=p["leadership"], start=p["start"]
        )


def test_analytics_shows_the_article_figures_for_guoziyuan(cast, client_for):
    _load_guoziyuan()
    resp = client_for(cast.county).get(
        reverse("cadres:analytics"), {"area": reference.TOWNSHIP, "on": reference.REFERENCE_DATE.isoformat()}
    )
    text = resp.content.decode()
    assert resp.status_code == 200
    assert "62.69%" in text and "39.92" in text
    assert "67 人" in text and "42 人" in text
    assert "行政编制" in text and ">22<" in text and ">27<" in text and ">18<" in text
    assert 'id="analytics-chart-data"' in text  # ECharts data beside the table fallback


def test_analytics_deltas_are_phrased_like_the_article(cast, client_for):
    old = make_cadre(
        VILLAGE_A,
        "老书记",
        date(1960, 5, 1),
        title="村党支部书记",
        secretary=True,
        director=True,
        start=date(2015, 1, 1),
        education="secondary",
    )
    services.post_end(actor=None, post=old.posts.get(), end=date(2021, 1, 10))
    make_cadre(
        VILLAGE_A,
        "新书记",
        date(1992, 5, 1),
        title="村党支部书记、村委会主任",
        secretary=True,
        director=True,
        college=True,
        start=date(2021, 1, 10),
    )
    make_cadre(VILLAGE_A, "新委员", date(1994, 5, 1), start=date(2021, 1, 10))
    resp = client_for(cast.secretary_a).get(
        reverse("cadres:analytics"), {"area": VILLAGE_A, "on": "2022-06-30", "compare": "2020-06-30"}
    )
    text = resp.content.decode()
    assert resp.status_code == 200
    # 2020: 老书记 60 → 2022: 30 and 28 (avg 29): 31 years younger; 1 → 2 people
    assert "平均年龄变小 31 岁" in text and "人数变多 1 人" in text
    assert "学历变高（大专及以上占比提高 100 个百分点）" in text and "有大学生干部的村增加 1 个" in text
    assert "村干部平均年龄" not in text.split("change-sentence")[1].split("</div>")[0]  # a village: said once
    assert 'id="comparison-table"' in text


def test_analytics_bad_dates_are_field_messages(cast, client_for):
    c = client_for(cast.secretary_a)
    resp = c.get(reverse("cadres:analytics"), {"on": "2023-02-30"})
    assert resp.status_code == 400 and "统计日期格式不正确" in resp.content.decode()
    resp = c.get(reverse("cadres:analytics"), {"compare": (TODAY + timedelta(days=3)).isoformat()})
    assert resp.status_code == 400 and "对比日期不能晚于今天" in resp.content.decode()


def test_four_ones_progress_and_overdue_articles(cast, roster, client_for):
    young = roster["a_young"]
    services.four_ones_add(actor=None, cadre=young, kind="symposium", done_on=TODAY, title="青年干部座谈会")
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("cadres:four_ones_add"),
        {"cadre": str(young.pk), "kind": "article", "done_on": TODAY.isoformat(), "title": "我的驻村日记"},
    )
    assert resp.status_code == 302
    assert FourOnes.objects.filter(cadre=young).count() == 2
    text = c.get(reverse("cadres:growth"), {"year": TODAY.year}).content.decode()
    assert "刘青年" in text and "刘书记" not in text  # only under-35s
    assert "1/1" in text and "1/12" in text
    if TODAY.month > 2:  # months over this year minus the one article
        assert f"文章缺 {TODAY.month - 2} 篇" in text
    last_year = c.get(reverse("cadres:growth"), {"year": TODAY.year - 1}).content.decode()
    assert "文章缺 12 篇" in last_year and "未完成：参加一次座谈会" in last_year
    # a future date is refused by the service, with nothing written
    resp = c.post(
        reverse("cadres:four_ones_add"),
        {"cadre": str(young.pk), "kind": "book", "done_on": (TODAY + timedelta(days=2)).isoformat(), "title": "书"},
    )
    assert resp.status_code == 400 and "完成日期不能晚于今天" in resp.content.decode()
    assert FourOnes.objects.filter(cadre=young).count() == 2


def test_commitments_overdue_and_fulfilled(cast, roster, client_for):
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("cadres:commitment_add"),
        {
            "cadre": str(roster["a_young"].pk),
            "promise": "年内修通组道路",
            "deadline": (TODAY - timedelta(days=1)).isoformat(),
        },
    )
    assert resp.status_code == 302
    text = c.get(reverse("cadres:commitments"), {"status": "overdue"}).content.decode()
    assert "年内修通组道路" in text and "逾期" in text and "有 1 项承诺已过期限仍未践诺" in text
    commitment = Commitment.objects.get()
    resp = c.post(
        reverse("cadres:commitment_fulfil", args=[commitment.pk]), {"fulfilled_on": TODAY.isoformat(), "note": "已通车"}
    )
    assert resp.status_code == 302
    assert "已过期限仍未践诺" not in c.get(reverse("cadres:commitments")).content.decode()
    # secretary_b cannot reach a 刘冲村 commitment at all
    assert client_for(cast.secretary_b).get(reverse("cadres:commitments")).content.decode().count("年内修通组道路") == 0


def test_lectures_mentorships_secondments(cast, roster, client_for):
    c = client_for(cast.township_admin)
    resp = c.post(
        reverse("cadres:lecture_add"),
        {
            "area_code": TOWNSHIP,
            "held_on": TODAY.isoformat(),
            "speaker": "王老师",
            "topic": "信访条例解读",
            "attendees": [str(roster["a_young"].pk), str(roster["township"].pk)],
        },
    )
    assert resp.status_code == 302
    assert "信访条例解读" in c.get(reverse("cadres:lectures")).content.decode()
    resp = c.post(
        reverse("cadres:mentorship_add"),
        {"mentor": str(roster["a_secretary"].pk), "mentee": str(roster["a_young"].pk), "start": TODAY.isoformat()},
    )
    assert resp.status_code == 302
    same = c.post(
        reverse("cadres:mentorship_add"),
        {"mentor": str(roster["a_young"].pk), "mentee": str(roster["a_young"].pk), "start": TODAY.isoformat()},
    )
    assert same.status_code == 400 and "不能与自己结对" in same.content.decode()
    resp = c.post(
        reverse("cadres:secondment_add"),
        {"cadre": str(roster["a_young"].pk), "to_where": "县信访局", "start": "2024-01-01", "end": "2023-01-01"},
    )
    assert resp.status_code == 400 and "结束时间不能早于开始时间" in resp.content.decode()
    resp = c.post(
        reverse("cadres:secondment_add"),
        {"cadre": str(roster["a_young"].pk), "to_where": "县信访局", "start": "2023-01-01", "end": "2023-12-31"},
    )
    assert resp.status_code == 302
    assert "县信访局" in c.get(reverse("cadres:secondments")).content.decode()
    assert "王老师" not in client_for(cast.secretary_a).get(reverse("cadres:lectures")).content.decode()


def test_recognitions_counts_and_sentence(cast, roster, client_for):
    c = client_for(cast.township_admin)
    for cadre in (roster["a_young"], roster["b_secretary"]):
        resp = c.post(
            reverse("cadres:recognition_add"),
            {
                "kind": "criticism",
                "target": "cadre",
                "cadre": str(cadre.pk),
                "issued_on": "2022-05-10",
                "issuer": "白塔畈镇党委",
                "document_no": "白党〔2022〕8号",
                "reason": "工作作风不实",
            },
        )
        assert resp.status_code == 302
    resp = c.post(
        reverse("cadres:recognition_add"),
        {
            "kind": "commendation",
            "target": "unit",
            "unit_name": "镇综治中心",
            "area_code": TOWNSHIP,
            "issued_on": "2022-08-01",
            "issuer": "白塔畈镇党委",
            "reason": "矛盾化解成效明显",
        },
    )
    assert resp.status_code == 302
    missing = c.post(
        reverse("cadres:recognition_add"),
        {
            "kind": "commendation",
            "target": "unit",
            "unit_name": "",
            "issued_on": "2022-08-01",
            "issuer": "镇",
            "reason": "x",
        },
    )
    assert missing.status_code == 400 and "请填写单位名称" in missing.content.decode()
    assert Recognition.objects.count() == 3
    text = c.get(reverse("cadres:recognitions"), {"period": "2022", "area": TOWNSHIP}).content.decode()
    assert "2022年通报批评镇村干部2人次，表扬相关部门单位1个" in text
    assert "镇综治中心" in text and "刘冲村" in text
    # secretary_a sees only 刘冲村's record in the counts
    a = client_for(cast.secretary_a).get(reverse("cadres:recognitions"), {"period": "2022"}).content.decode()
    assert "通报批评镇村干部1人次，表扬相关部门单位0个" in a
    bad = c.get(reverse("cadres:recognitions"), {"period": "2022-13"})
    assert bad.status_code == 400 and "统计期格式应为" in bad.content.decode()


def test_registers_export_and_print(cast, roster, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    c = client_for(cast.township_admin)
    resp = c.get(reverse("cadres:roster_export"), {"area": VILLAGE_A})
    assert resp.status_code == 200
    wb = load_workbook(BytesIO(b"".join(resp.streaming_content)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == "镇村干部花名册"
    header = rows[2]
    assert "姓名" in header and "一肩挑" in header and "任职时间" in header
    names = {r[header.index("姓名")] for r in rows[3:]}
    assert names == {"刘书记", "刘青年", "名誉甲"}
    event = AuditEvent.objects.filter(action="cadres.export").latest("id")
    assert event.details["register"] == "roster" and event.details["rows"] == 3
    assert "刘书记" in c.get(reverse("cadres:roster_print"), {"area": VILLAGE_A}).content.decode()
    training = c.get(reverse("cadres:training_register"), {"year": TODAY.year}).content.decode()
    assert "干部培养台账" in training and "刘青年" in training
    xlsx = c.get(reverse("cadres:training_register"), {"year": TODAY.year, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    rec = c.get(reverse("cadres:recognition_register"), {"period": "2022", "format": "xlsx"})
    assert rec.status_code == 200
    assert AuditEvent.objects.filter(action="cadres.export").count() == 3


def test_roster_query_count_does_not_grow_with_rows(cast, client_for):
    c = client_for(cast.township_admin)
    for i in range(3):
        make_cadre(VILLAGE_A, f"少{i}", date(1980, 1, 1 + i))
    with CaptureQueriesContext(connection) as few:
        assert c.get(reverse("cadres:roster")).status_code == 200
    for i in range(15):
        make_cadre(VILLAGE_B, f"多{i}", date(1981, 2, 1 + i))
    with CaptureQueriesContext(connection) as many:
        assert c.get(reverse("cadres:roster")).status_code == 200
    assert len(many) <= len(few) + 1  # +1: the page count once there is a second page
    assert len(many) <= 16


def test_huge_ids_are_not_found(cast, client_for):
    c = client_for(cast.township_admin)
    huge = 2**70
    for url in (
        f"/cadres/{huge}/",
        f"/cadres/posts/{huge}/end/",
        f"/cadres/growth/commitments/{huge}/fulfil/",
        f"/visits/{huge}/",
        f"/visits/{huge}/photos/1/",
    ):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/visits/problems/{huge}/case/").status_code == 404
