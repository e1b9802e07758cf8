"""Registry export: masked, formula-safe, audited, scoped, filtered, streamed."""

import io
import zipfile
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core import idcard
from xiangzhi.core.testing import VILLAGE_A, VILLAGE_B
from xiangzhi.residents import services
from xiangzhi.residents.registers import export_residents_xlsx
from xiangzhi.residents.services import resident_plain

pytestmark = pytest.mark.django_db

URL = "/residents/export/"


def download(client, **params):
    response = client.get(reverse("residents:export"), params)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def unzipped(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return "\n".join(zf.read(name).decode("utf-8", "replace") for name in zf.namelist())


def sheet_rows(data: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_export_url():
    assert reverse("residents:export") == URL


def test_export_masks_id_numbers_and_phones_everywhere_in_the_file(cast, client_for):
    id_number = idcard.make_id("341524", date(1987, 7, 13), 517)
    services.resident_create(
        actor=None,
        household=cast.household_a1,
        name="刘测试",
        id_number=id_number,
        phone="13912345678",
        relation="spouse",
    )
    data = download(client_for(cast.secretary_a))
    text = unzipped(data)
    assert id_number not in text
    assert "19870713" not in text  # not even the birth date
    assert "13912345678" not in text
    for resident in cast.household_a1.members.all():
        assert resident_plain(resident)["id_number"] not in text
    rows = sheet_rows(data)
    assert rows[0][0] == "户籍人口花名册"
    header = rows[2]
    assert header[:8] == ["序号", "村（社区）", "网格", "户号", "户主姓名", "姓名", "与户主关系", "身份证号"]
    person = next(r for r in rows if r[5] == "刘测试")
    assert person[7] == "341524********517".replace("517", id_number[-4:])
    assert person[header.index("联系电话")] == "139****5678"
    assert person[1] == "刘冲村" and person[2] == "第一网格" and person[3] == "A1-001"


def test_formula_injection_in_an_address_is_neutralised(cast, client_for):
    payload = '=HYPERLINK("http://evil.example/steal","点击领取补贴")'
    services.household_update(actor=None, household=cast.household_a2, address=payload)
    services.resident_create(actor=None, household=cast.household_a2, name="王二", relation="son")
    data = download(client_for(cast.secretary_a))
    text = unzipped(data)
    assert "<f>" not in text and "<f " not in text  # no formula anywhere in the workbook
    rows = sheet_rows(data)
    header = rows[2]
    address = next(r[header.index("住址")] for r in rows if r[5] == "王秀英")
    assert address == "'" + payload  # stored as text with a leading apostrophe
    for prefix in ("+", "-", "@"):
        services.household_update(actor=None, household=cast.household_a2, address=f"{prefix}1+1")
        rows = sheet_rows(download(client_for(cast.secretary_a)))
        assert next(r[header.index("住址")] for r in rows if r[5] == "王秀英") == f"'{prefix}1+1"


def test_export_is_audited_with_row_count_and_filters(cast, client_for):
    before = AuditEvent.objects.filter(action="residents.export").count()
    data = download(client_for(cast.secretary_a), village=VILLAGE_A, tag="")
    people = len(sheet_rows(data)) - 3
    event = AuditEvent.objects.filter(action="residents.export").latest("id")
    assert AuditEvent.objects.filter(action="residents.export").count() == before + 1
    assert event.actor_id == cast.secretary_a.pk
    assert event.details["rows"] == people == 4  # household A1 (2), A2 (1), villager household (1)
    assert event.details["filters"] == {"area_code": VILLAGE_A}


def test_export_only_contains_rows_in_the_users_scope(cast, client_for):
    names_b = {r[5] for r in sheet_rows(download(client_for(cast.secretary_b)))[3:]}
    assert names_b == {"张大岗"}
    names_a = {r[5] for r in sheet_rows(download(client_for(cast.secretary_a)))[3:]}
    assert "张大岗" not in names_a and {"刘长喜", "刘小明", "王秀英", "陈村民"} <= names_a
    # asking for another village's rows gives nothing, not an error
    assert sheet_rows(download(client_for(cast.secretary_b), village=VILLAGE_A))[3:] == []
    township = {r[5] for r in sheet_rows(download(client_for(cast.township_admin)))[3:]}
    assert names_a | names_b <= township


def test_export_applies_the_list_filters(cast, client_for):
    services.household_update(actor=None, household=cast.household_a2, tags=["subsistence"])
    client = client_for(cast.secretary_a)
    assert {r[5] for r in sheet_rows(download(client, tag="subsistence"))[3:]} == {"王秀英"}
    assert {r[5] for r in sheet_rows(download(client, grid=cast.grid_a2.code))[3:]} == {"王秀英"}
    assert {r[5] for r in sheet_rows(download(client, q="lcx"))[3:]} == {"刘长喜", "刘小明"}
    assert {r[5] for r in sheet_rows(download(client, area_code=cast.grid_a2.code))[3:]} == {"王秀英"}


def test_export_needs_the_export_permission(cast, client_for, client):
    for user in (cast.grid_worker_a1, cast.villager, cast.auditor, cast.nobody):
        assert client_for(user).get(URL).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]
    assert client_for(cast.county).get(URL).status_code == 200  # county supervisors may export
    assert not AuditEvent.objects.filter(action="residents.export", actor_id=cast.grid_worker_a1.pk).exists()


def test_export_leaves_no_file_behind(cast, client_for, settings, tmp_path):
    settings.EXPORT_DIR = tmp_path
    download(client_for(cast.secretary_a))
    assert list(tmp_path.iterdir()) == []


def test_export_function_for_the_benchmark(cast, tmp_path):
    path = tmp_path / "out.xlsx"
    count = export_residents_xlsx(cast.secretary_a, {"village": VILLAGE_A}, path)
    assert count == 4
    rows = sheet_rows(path.read_bytes())
    assert len(rows) == 3 + 4
    assert export_residents_xlsx(cast.secretary_b, {"village": VILLAGE_A}, tmp_path / "b.xlsx") == 0
    assert VILLAGE_B  # the other village stays out


def test_export_then_reimport_is_recognised_as_a_roster(cast, client_for):
    """The export's own header row is read back by the importer (same register)."""
    from xiangzhi.core.registers import read_table
    from xiangzhi.residents.registers import ROSTER

    data = download(client_for(cast.secretary_a))
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "e.xlsx"
        p.write_bytes(data)
        table = read_table(ROSTER, p, "e.xlsx")
    assert table.header_row == 3
    assert {"name", "relation", "id_number", "number", "grid"} <= set(table.headers)
    assert len(table.rows) == 4
