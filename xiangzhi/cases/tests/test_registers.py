"""Case registers: the case register (page + .xlsx) — scoped, filtered like the queue,
masked, formula-safe, audited — and the monthly 矛盾纠纷排查化解情况表 whose numbers are
those of metrics.village_table."""

import io
import zipfile
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xiangzhi.audit.models import AuditEvent
from xiangzhi.cases import metrics
from xiangzhi.cases.models import Case, Mediation
from xiangzhi.cases.registers import LATE, ON_TIME, OPEN_LATE, scrub
from xiangzhi.core import periods
from xiangzhi.core.testing import TOWNSHIP, VILLAGE_A, VILLAGE_B

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TZ = periods.TZ


def download(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX and "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def unzipped(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())


def sheet_rows(data: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture
def two_villages(cast, make_case):
    a = make_case(title="刘冲村排水沟纠纷", contact_name="刘长喜", contact_phone="13912345678")
    b = make_case(actor=cast.secretary_b, area=cast.grid_b1.code, title="大岗村山林界址纠纷")
    return a, b


# --- the case register --------------------------------------------------------------------
def test_register_page_lists_the_users_cases_only(cast, client_for, two_villages):
    a, b = two_villages
    response = client_for(cast.secretary_b).get(reverse("cases:register"))
    assert response.status_code == 200
    html = response.content.decode()
    assert b.tracking_code in html and "大岗村山林界址纠纷" in html
    assert a.tracking_code not in html and "刘冲村" not in html.split('id="register-table"')[1]
    for header in ("查询码", "类型", "来源", "分类", "事项", "属地", "收到时间", "状态", "层级", "包案领导", "承办人",
                   "办结期限", "办结时间", "是否按期", "满意度"):  # fmt: skip
        assert f"<th>{header}</th>" in html
    # the township sees both villages, with village · grid names
    html = client_for(cast.township_admin).get(reverse("cases:register")).content.decode()
    assert a.tracking_code in html and b.tracking_code in html and "刘冲村 · 第一网格" in html


def test_export_of_the_secretary_of_dagang_has_only_dagang_rows_and_is_audited(cast, client_for, two_villages):
    a, b = two_villages
    before = AuditEvent.objects.filter(action="cases.export").count()
    rows = sheet_rows(download(client_for(cast.secretary_b), "cases:register_export"))
    assert rows[0][0] == "矛盾纠纷/信访事项台账"
    header = rows[2]
    assert header == ["序号", "查询码", "类型", "来源", "分类", "事项", "属地", "收到时间", "状态", "层级", "包案领导",
                      "承办人", "办结期限", "办结时间", "是否按期", "满意度"]  # fmt: skip
    data = rows[3:]
    assert [r[1] for r in data] == [b.tracking_code]
    assert data[0][6] == "大岗村 · 第一网格" and data[0][2] == "矛盾纠纷" and data[0][8] == "已登记"
    assert isinstance(data[0][7], datetime)  # a real date-time cell, local time
    assert abs(data[0][7].replace(tzinfo=TZ) - b.received_at) < timedelta(seconds=1)
    event = AuditEvent.objects.filter(action="cases.export").latest("id")
    assert AuditEvent.objects.filter(action="cases.export").count() == before + 1
    assert event.actor_id == cast.secretary_b.pk
    assert event.details["register"] == "case_register" and event.details["rows"] == 1


def test_export_masks_personal_data(cast, client_for, make_case):
    make_case(title="张三电话13812345678身份证341524198707135173", contact_name="张三", contact_phone="13987654321")
    data = download(client_for(cast.secretary_a), "cases:register_export")
    text = unzipped(data)
    assert "13812345678" not in text and "13987654321" not in text and "341524198707135173" not in text
    title = sheet_rows(data)[3][5]
    assert title == "张三电话138****5678身份证341524********5173"
    # and the printable page masks alike
    html = client_for(cast.secretary_a).get(reverse("cases:register")).content.decode()
    assert "13812345678" not in html and "138****5678" in html


def test_scrub():
    assert scrub("") == ""
    assert scrub("联系 13800001111，") == "联系 138****1111，"
    assert scrub("编号 2025031300001") == "编号 2025031300001"  # 13 digits: not a phone
    assert scrub("身份证 34152419870713517x") == "身份证 341524********517X"


def test_export_neutralises_formulas(cast, client_for, make_case):
    payload = '=HYPERLINK("http://evil.example","领补贴")'
    make_case(title=payload)
    make_case(title="@SUM(A1:A9)")
    data = download(client_for(cast.secretary_a), "cases:register_export")
    assert "<f>" not in unzipped(data)
    titles = {r[5] for r in sheet_rows(data)[3:]}
    assert titles == {"'" + payload, "'@SUM(A1:A9)"}


def test_export_applies_the_queue_filters_and_ignores_areas_out_of_scope(cast, client_for, make_case, two_villages):
    make_case(kind="petition", title="信访件")
    client = client_for(cast.township_admin)
    rows = sheet_rows(download(client, "cases:register_export", kind="petition"))[3:]
    assert [r[5] for r in rows] == ["信访件"]
    rows = sheet_rows(download(client, "cases:register_export", area=VILLAGE_B))[3:]
    assert [r[5] for r in rows] == ["大岗村山林界址纠纷"]
    # 大岗村's secretary asking for 刘冲村 gets his own rows, never 刘冲村's
    rows = sheet_rows(download(client_for(cast.secretary_b), "cases:register_export", area=VILLAGE_A))[3:]
    assert [r[5] for r in rows] == ["大岗村山林界址纠纷"]
    event = AuditEvent.objects.filter(action="cases.export").latest("id")
    assert event.details["filters"] == {}


def test_on_time_column(cast, client_for, make_case):
    closed_ok = make_case(title="按期")
    closed_late = make_case(title="超期")
    open_late = make_case(title="在办超期")
    open_ok = make_case(title="在办")
    due = datetime(2025, 4, 1, tzinfo=TZ)
    Case.objects.filter(pk=closed_ok.pk).update(status="closed", due_at=due, closed_at=datetime(2025, 3, 30, tzinfo=TZ))
    Case.objects.filter(pk=closed_late.pk).update(
        status="closed", due_at=due, closed_at=datetime(2025, 4, 2, tzinfo=TZ)
    )
    Case.objects.filter(pk=open_late.pk).update(status="in_progress", due_at=due)
    Case.objects.filter(pk=open_ok.pk).update(status="in_progress", due_at=datetime(2099, 1, 1, tzinfo=TZ))
    rows = sheet_rows(download(client_for(cast.secretary_a), "cases:register_export"))[3:]
    assert {r[5]: r[14] for r in rows} == {"按期": ON_TIME, "超期": LATE, "在办超期": OPEN_LATE, "在办": None}


@pytest.mark.parametrize("name", ["cases:register", "cases:register_export", "cases:monthly", "cases:monthly_export"])
def test_register_access(cast, client_for, client, name):
    url = reverse(name)
    assert client.get(url).status_code == 302  # anonymous → login
    assert client_for(cast.auditor).get(url).status_code == 403
    assert client_for(cast.grid_worker_a1).get(url).status_code == 403  # no export permission
    assert client_for(cast.villager).get(url).status_code == 403
    assert client_for(cast.nobody).get(url).status_code == 403
    assert client_for(cast.township_admin).get(url).status_code == 200


def test_nothing_is_exported_when_the_audit_cannot_be_written(cast, client_for, two_villages, monkeypatch, settings,
                                                              tmp_path):  # fmt: skip
    from xiangzhi.audit import services as audit_services

    settings.EXPORT_DIR = tmp_path

    def fail(*a, **kw):
        raise audit_services.AuditWriteError("down")

    monkeypatch.setattr(audit_services, "record", fail)
    response = client_for(cast.secretary_b).get(reverse("cases:register_export"))
    assert response.status_code == 503 and "审计" in response.content.decode()
    assert list(tmp_path.iterdir()) == []


# --- 矛盾纠纷排查化解情况表 ---------------------------------------------------------------------
_n = [0]


def mk(area, **kw):
    _n[0] += 1
    defaults = dict(kind="dispute", channel="walk_in", title="t", description="d", tracking_code=f"R{_n[0]:09d}",
                    received_at=datetime(2025, 3, 3, 10, tzinfo=TZ), status="registered", level="grid")  # fmt: skip
    defaults.update(kw)
    return Case.objects.create(area_code=area, **defaults)


@pytest.fixture
def march(cast):
    a1, b1 = cast.grid_a1.code, cast.grid_b1.code
    d = lambda day, month=3: datetime(2025, month, day, 10, tzinfo=TZ)  # noqa: E731
    # 刘冲村: 3 disputes registered in March (one resolved+closed, one resolved, one open and overdue),
    # one registered in February and resolved in March; a petition (not a dispute) resolved in March.
    c1 = mk(a1, received_at=d(2), resolved_at=d(4), status="closed", closed_at=d(5), due_at=d(10))
    mk(a1, received_at=d(6), resolved_at=d(9), status="resolved", due_at=d(20, 4))
    mk(a1, received_at=d(7), status="in_progress", due_at=d(12))
    mk(a1, received_at=d(20, 2), resolved_at=d(2), status="closed", closed_at=d(3), due_at=d(1))
    mk(a1, kind="petition", received_at=d(8), resolved_at=d(9), status="resolved")
    # 大岗村: one dispute registered in March, still open, not overdue
    c6 = mk(b1, received_at=d(15), status="assigned", due_at=datetime(2099, 1, 1, tzinfo=TZ))
    for case, result, day in ((c1, "success", 3), (c1, "failure", 2), (c6, "success", 16), (c6, "success", 17)):
        Mediation.objects.create(case=case, held_at=d(day), result=result, mediator_names="李调解")
    return cast


def test_monthly_page_matches_metrics(march, client_for):
    response = client_for(march.township_admin).get(reverse("cases:monthly"), {"month": "2025-03"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "白塔畈镇2025年3月矛盾纠纷排查化解情况表" in html
    assert "填报单位（盖章）：白塔畈镇" in html and "填报日期：" in html
    for s in ("填表人：", "审核人：", "负责人（签字）："):
        assert s in html
    table = response.context["table"]
    assert table.rows == metrics.village_table(TOWNSHIP, periods.month(2025, 3)) and len(table.rows) == 12
    liu = next(r for r in response.context["rows"] if r[0] == "刘冲村")
    # registered 3 (c1 c2 c3); resolved in March 3 (c1 c2 and the February one) → 100.00%;
    # mediations 2, successful 1 → 50.00%; open c2 c3 = 2; overdue c3 = 1
    assert liu == ["刘冲村", 3, 3, "100.00%", 2, 1, "50.00%", 2, 1]
    da = next(r for r in response.context["rows"] if r[0] == "大岗村")
    assert da == ["大岗村", 1, 0, "0.00%", 2, 2, "100.00%", 1, 0]
    gong = next(r for r in response.context["rows"] if r[0] == "龚店村")
    assert gong == ["龚店村", 0, 0, "—", 0, 0, "—", 0, 0]
    # the total recomputes the rates from the sums: 3/4 = 75.00 %, 3/4 = 75.00 %
    assert response.context["total"] == ["合计", 4, 3, "75.00%", 4, 3, "75.00%", 3, 1]


def test_monthly_xlsx_has_the_same_numbers_and_is_audited(march, client_for):
    data = download(client_for(march.township_admin), "cases:monthly_export", month="2025-03")
    rows = sheet_rows(data)
    assert rows[0][0] == "白塔畈镇2025年3月矛盾纠纷排查化解情况表"
    assert rows[1][0] == "填报单位（盖章）：白塔畈镇" and rows[1][6].startswith("填报日期：")
    assert rows[2] == [
        "村（社区）",
        "排查纠纷数",
        "化解数",
        "化解率",
        "调解次数",
        "调解成功数",
        "调解成功率",
        "在办",
        "超期",
    ]
    body = rows[3:15]
    assert next(r for r in body if r[0] == "刘冲村") == ["刘冲村", 3, 3, "100.00%", 2, 1, "50.00%", 2, 1]
    assert rows[15] == ["合计", 4, 3, "75.00%", 4, 3, "75.00%", 3, 1]
    flat = [c for r in rows for c in r if c]
    assert {"填表人：", "审核人：", "负责人（签字）："} <= set(flat)
    event = AuditEvent.objects.filter(action="cases.export").latest("id")
    assert event.details == {"register": "monthly_disputes", "rows": 12, "month": "2025-03"}
    assert event.area_code == TOWNSHIP


def test_monthly_scope_and_bad_input(march, client_for):
    # a village secretary holds the export permission, but the table is the township's
    response = client_for(march.secretary_a).get(reverse("cases:monthly"))
    assert response.status_code == 403
    # the county supervisor picks among the county's townships; anything else is not found
    county = client_for(march.county)
    assert county.get(reverse("cases:monthly"), {"township": TOWNSHIP, "month": "2025-03"}).status_code == 200
    assert county.get(reverse("cases:monthly"), {"township": "341525111"}).status_code == 404
    admin = client_for(march.township_admin)
    assert admin.get(reverse("cases:monthly"), {"township": "341524105"}).status_code == 404
    response = admin.get(reverse("cases:monthly"), {"month": "2025-13"})
    assert response.status_code == 400 and "月份格式应为 2025-03" in response.content.decode()
    assert admin.get(reverse("cases:monthly_export"), {"month": "2025"}).status_code == 400
