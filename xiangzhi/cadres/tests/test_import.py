"""Roster import: template, header detection, dates as rosters write them (1987.07.13, Excel
serial numbers), per-row Chinese errors with row and column (bad dates, a 12-year-old,
duplicates in the file, unknown village), all or nothing, idempotent re-import, GBK CSV,
the 5,000-row limit, scope."""

from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cadres.models import Cadre, Post
from xiangzhi.core import periods
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A

pytestmark = pytest.mark.django_db
TODAY = periods.local_today()
HEADER = [
    "单位",
    "姓名",
    "性别",
    "出生日期",
    "学历",
    "全日制大学生",
    "政治面貌",
    "编制",
    "职务",
    "班子成员",
    "任职时间",
]


def xlsx(rows, *, header=HEADER, title=True) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append(["白塔畈镇村干部花名册"])  # a title row above the header
    ws.append(header)
    for r in rows:
        ws.append(r)
    ws.append(["填表人：张三"])  # trailer
    buf = BytesIO()
    wb.save(buf)
    return SimpleUploadedFile("花名册.xlsx", buf.getvalue())


def csv(rows, *, encoding="utf-8-sig", header=HEADER) -> SimpleUploadedFile:
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    return SimpleUploadedFile("花名册.csv", ("\r\n".join(lines) + "\r\n").encode(encoding))


GOOD = [
    [
        "刘冲村",
        "刘明",
        "男",
        "1987.07.13",
        "本科",
        "是",
        "中共党员",
        "",
        "村党总支书记、村委会主任",
        "是",
        "2021-01-10",
    ],
    ["刘冲村", "王芳", "女", 34000, "大专", "否", "群众", "", "村委委员", "是", "2021年1月10日"],
    ["", "镇干部乙", "男", "1992-03-04", "研究生", "是", "中共党员", "三支一扶", "党政办工作人员", "否", "2020/8/1"],
]


def post(client, upload, area=TOWNSHIP):
    return client.post(reverse("cadres:import"), {"area_code": area, "file": upload})


def test_template_has_the_roster_headers(cast, client_for):
    resp = client_for(cast.township_admin).get(reverse("cadres:import_template"))
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.content)).active
    headers = [c.value for c in ws[2]]
    for h in ("单位", "姓名", "性别", "出生日期", "学历", "编制", "职务", "任职时间"):
        assert h in headers


def test_good_file_imports_all_rows_with_posts(cast, client_for):
    c = client_for(cast.township_admin)
    resp = post(c, xlsx(GOOD))
    assert resp.status_code == 302, resp.content.decode()[:2000]
    ming = Cadre.objects.get(name="刘明")
    assert (ming.area_code, ming.birth_date, ming.establishment, ming.college_graduate) == (
        VILLAGE_A,
        date(1987, 7, 13),
        "village",
        True,
    )
    post_ = ming.posts.get()
    assert post_.is_secretary and post_.is_director and post_.leadership  # 一肩挑 read from the title
    fang = Cadre.objects.get(name="王芳")
    assert fang.birth_date == date(1993, 1, 31)  # Excel serial 34000
    assert fang.posts.get().start == date(2021, 1, 10)
    township = Cadre.objects.get(name="镇干部乙")
    assert (township.area_code, township.level, township.establishment) == (TOWNSHIP, "township", "sanzhi_yifu")
    event = AuditEvent.objects.filter(action="cadres.roster_import").get()
    assert event.details["created"] == 3 and "刘明" not in str(event.details)
    follow = c.get(resp.url).content.decode()
    assert "导入完成：共 3 行，新增 3 人" in follow and "刘明" in follow


def test_reimport_is_idempotent_and_updates_changes(cast, client_for):
    c = client_for(cast.township_admin)
    assert post(c, xlsx(GOOD)).status_code == 302
    before = (Cadre.objects.count(), Post.objects.count())
    resp = post(c, xlsx(GOOD))
    assert resp.status_code == 302
    assert (Cadre.objects.count(), Post.objects.count()) == before
    event = AuditEvent.objects.filter(action="cadres.roster_import").latest("id")
    assert (event.details["created"], event.details["updated"], event.details["unchanged"]) == (0, 0, 3)
    assert not AuditEvent.objects.filter(action="cadres.cadre_update").exists()
    changed = [list(r) for r in GOOD]
    changed[1][4] = "本科"  # 王芳's education
    changed[1][8] = "村委会副主任"  # a new post
    post(c, xlsx(changed))
    fang = Cadre.objects.get(name="王芳")
    assert fang.education == "bachelor" and fang.posts.count() == 2
    assert Cadre.objects.count() == before[0]


def test_row_errors_are_reported_and_nothing_is_written(cast, client_for):
    twelve = TODAY.replace(year=TODAY.year - 12).isoformat()
    rows = GOOD + [
        ["刘冲村", "坏日期", "男", "1987.02.30", "本科", "是", "群众", "", "", "", ""],
        ["刘冲村", "小孩", "男", twelve, "初中", "否", "群众", "", "", "", ""],
        ["刘冲村", "刘明", "男", "1987-07-13", "本科", "是", "中共党员", "", "", "", ""],  # duplicate of row 3
        ["不存在村", "外村人", "女", "1980-01-01", "高中", "否", "群众", "", "", "", ""],
        ["刘冲村", "无学历", "男", "1980-01-01", "扫盲班", "否", "群众", "", "村委委员", "", ""],
        ["刘冲村", "缺时间", "男", "1980-01-01", "高中", "否", "群众", "", "村委委员", "", ""],
        ["", "镇干部丙", "男", "1980-01-01", "本科", "否", "群众", "", "", "", ""],  # township cadre, no 编制
    ]
    resp = post(client_for(cast.township_admin), xlsx(rows))
    assert resp.status_code == 400
    text = resp.content.decode()
    assert "未导入任何数据" in text
    # rows as the sheet shows them: title row 1, header row 2, data from row 3
    assert "第 6 行" in text and "“1987.02.30”不是有效日期" in text
    assert "第 7 行" in text and "年龄仅 12 岁" in text
    assert "第 8 行" in text and "与第 3 行重复（同一单位同名同出生日期）" in text
    assert "第 9 行" in text and "单位“不存在村”不是白塔畈镇的村（社区）" in text
    assert "第 10 行" in text and "学历“扫盲班”无法识别" in text
    assert "第 11 行" in text and "填写了职务，请同时填写任职时间" in text
    assert "第 12 行" in text and "镇干部请填写编制" in text
    assert not Cadre.objects.exists() and not Post.objects.exists()


def test_gbk_csv_and_a_village_as_target(cast, client_for):
    rows = [
        ["刘冲村", "陈红", "女", "1990.05.01", "大学本科", "是", "预备党员", "村干部", "妇联主席", "否", "2022.03.01"]
    ]
    resp = post(client_for(cast.township_admin), csv(rows, encoding="gbk"), area=VILLAGE_A)
    assert resp.status_code == 302
    hong = Cadre.objects.get(name="陈红")
    assert hong.party_member and hong.area_code == VILLAGE_A
    other = [["大岗村", "外村干部", "男", "1990-05-01", "本科", "是", "群众", "", "", "", ""]]
    resp = post(client_for(cast.township_admin), csv(other), area=VILLAGE_A)
    assert resp.status_code == 400 and "不是所选村" in resp.content.decode()


def test_file_level_problems(cast, client_for):
    c = client_for(cast.township_admin)
    resp = post(c, SimpleUploadedFile("x.docx", b"PK\x03\x04nonsense"))
    assert resp.status_code == 400 and "无法读取该文件" in resp.content.decode()
    resp = post(c, csv([["刘冲村", "刘明"]], header=["单位", "姓名"]))
    assert resp.status_code == 400 and "缺少必需的列" in resp.content.decode()
    many = [["刘冲村", f"人{i}", "男", "1980-01-01", "本科", "否", "群众", "", "", "", ""] for i in range(5001)]
    resp = post(c, csv(many))
    assert resp.status_code == 400 and "单个文件最多 5000 行数据" in resp.content.decode()
    resp = post(c, csv([]))
    assert resp.status_code == 400 and "没有数据行" in resp.content.decode()
    assert not Cadre.objects.exists()


def test_import_scope(cast, client_for):
    assert client_for(cast.secretary_a).get(reverse("cadres:import")).status_code == 403
    assert client_for(cast.villager).post(reverse("cadres:import"), {}).status_code == 403
    # a township admin cannot import into a township outside the assignment
    resp = post(client_for(cast.township_admin), xlsx(GOOD), area="341524208")
    assert resp.status_code == 400 and "导入到无效" in resp.content.decode() and not Cadre.objects.exists()
