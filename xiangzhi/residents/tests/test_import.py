"""Roster import through the upload page: GBK CSV, real-world xlsx layout, the per-row
error report, all-or-nothing, idempotent re-import, file checks and scope."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core import crypto, idcard
from xiangzhi.core.testing import VILLAGE_A, VILLAGE_B
from xiangzhi.residents import services
from xiangzhi.residents.models import Household, ImportJob, Resident, SearchKey
from xiangzhi.residents.tests.fixtures import rosters

pytestmark = pytest.mark.django_db

URL = "/residents/import/"
XLSX = "roster.xlsx"


def upload(client, data: bytes, name: str = XLSX, area: str = VILLAGE_A):
    return client.post(reverse("residents:import"), {"area_code": area, "file": SimpleUploadedFile(name, data)})


def village_households(code=VILLAGE_A):
    return Household.objects.filter(village_code=code)


def last_job() -> ImportJob:
    return ImportJob.objects.order_by("-id").first()


def errors_of(job) -> list[tuple[int, str, str]]:
    return [(e["row"], e["column"], e["message"]) for e in job.errors]


def test_import_url_is_the_nav_entry():
    assert reverse("residents:import") == URL


def test_gbk_csv_imports_households_heads_tags_and_encrypted_phones(cast, client_for):
    rows = rosters.sample_rows()
    data = rosters.roster_csv(rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really a GBK file
    before = village_households().count()
    response = upload(client_for(cast.secretary_a), data, "花名册.csv")
    assert response.status_code == 302
    job = last_job()
    assert response["Location"] == reverse("residents:import_job", args=[job.pk])
    assert job.status == "done", job.errors
    assert (job.households_created, job.residents_created) == (3, 7)
    assert village_households().count() == before + 3
    h1 = Household.objects.get(village_code=VILLAGE_A, number="1")
    assert h1.head_name == "沈德静" and h1.member_count == 2 and h1.address == "刘冲村老屋组39号"
    assert h1.area_code == VILLAGE_A  # no grid column: the chosen village
    head = Resident.objects.get(household=h1, relation="head")
    assert h1.head_id == head.pk and head.tags == ",party_member,"
    assert Household.objects.get(village_code=VILLAGE_A, number="2").tags == ",formerly_poor,"
    assert head.phone_hash == crypto.blind_index("18900001150", "phone")
    assert head.id_number_hash == crypto.blind_index(rows[0][5], "id_number")
    assert SearchKey.objects.filter(resident=head, key="sdj").exists()
    # the upload is deleted once the run ends
    assert not (Path(settings.UPLOAD_DIR) / "imports").exists() or not any(
        (Path(settings.UPLOAD_DIR) / "imports").iterdir()
    )


def test_utf8_csv_with_and_without_bom(cast, client_for):
    client = client_for(cast.secretary_a)
    rows = rosters.sample_rows()
    upload(client, rosters.roster_csv(rows, encoding="utf-8", bom=True), "a.csv")
    assert last_job().status == "done" and last_job().residents_created == 7
    upload(client, rosters.roster_csv(rows, encoding="utf-8"), "b.csv")  # same people, no BOM
    assert last_job().status == "done", last_job().errors
    assert (last_job().residents_created, last_job().residents_updated) == (0, 0)


def test_xlsx_with_title_rows_trailer_lines_and_messy_cells(cast, client_for):
    rows = rosters.sample_rows()
    # messy but valid: full-width digits, lower-case x, stray spaces, phone dashes,
    # dates as 1987.07.13 and as an Excel serial number, a name padded for alignment
    x_id = idcard.make_id("341524", date(1990, 3, 7), 0)
    while not x_id.endswith("X"):
        x_id = idcard.make_id("341524", date(1990, 3, 7), int(x_id[14:17]) + 2)
    rows.append(["8", "4", "许 英华", "许　英华", " 户主 ", " " + x_id.lower() + " ", "男" if int(x_id[16]) % 2 else "女",
                 "1990.03.07", "189-0000-1234", "", "刘冲村四号", ""])  # fmt: skip
    full = rows[1][5].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    rows[1][5] = full
    rows[1][7] = 31971.0  # 1987-07-13 as Excel stores it
    data = rosters.roster_xlsx(rows, title=True, trailer=True)
    upload(client_for(cast.secretary_a), data)
    job = last_job()
    assert job.status == "done", job.errors
    assert job.total_rows == 8  # title, unit line, blank line and signature line skipped
    person = Resident.objects.get(id_number_hash=crypto.blind_index(x_id, "id_number"))
    assert person.name == "许英华" and person.relation == "head"
    assert person.phone_hash == crypto.blind_index("18900001234", "phone")
    spouse = Resident.objects.get(id_number_hash=crypto.blind_index(idcard.normalize(full), "id_number"))
    assert spouse.name == "邹洋杰" and spouse.birth_year == 1987


def test_header_detected_without_title_rows_and_with_synonyms(cast, client_for):
    header = ["姓名", "身份证号码", "关系", "户号", "手机号", "住址", "人员类别"]
    r = rosters.sample_rows()
    rows = [[p[3], p[5], p[4], p[1], p[8], p[10], p[11] if p[11] == "党员" else ""] for p in r]
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows, header=header, title=False, trailer=False))
    job = last_job()
    assert job.status == "done", job.errors
    assert job.residents_created == 7


def test_duplicate_ids_in_the_file_are_reported_and_nothing_is_written(cast, client_for):
    rows = rosters.sample_rows()
    rows[3][5] = rows[1][5]  # row 7 in the sheet repeats row 5
    before = Resident.objects.count()
    response = upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    job = last_job()
    assert job.status == "failed"
    first = rosters.first_data_row()
    assert (first + 3, "公民身份号码", f"与第 {first + 1} 行的身份证号重复") in errors_of(job)
    assert Resident.objects.count() == before
    page = client_for(cast.secretary_a).get(response["Location"])
    assert "未写入任何数据" in page.content.decode()
    assert f"与第 {first + 1} 行的身份证号重复" in page.content.decode()


def test_bad_check_digit_reported_with_sheet_row_number_and_column(cast, client_for):
    rows = rosters.sample_rows()
    good = rows[4][5]
    rows[4][5] = good[:-1] + ("0" if good[-1] != "0" else "1")
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    job = last_job()
    assert job.status == "failed"
    row = rosters.first_data_row() + 4  # 5th person; header on row 3
    assert (row, "公民身份号码", "身份证号校验码不正确，请逐位核对是否有输错或前后颠倒的数字") in errors_of(job)
    assert not village_households().filter(number__in=["1", "2", "3"]).exists()


def test_numeric_id_cell_gets_a_clear_message(cast, client_for):
    rows = rosters.sample_rows()
    rows[0][5] = float(rows[0][5][:17])  # Excel turned the ID into a number
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    (row, column, message), *_ = errors_of(last_job())
    assert (row, column) == (4, "公民身份号码") and "文本" in message


def test_grid_column_maps_names_and_codes_and_reports_unknown_grids(cast, client_for):
    header = [*rosters.HEADER, "网格"]
    rows = [[*p, ""] for p in rosters.sample_rows()]
    for p in rows[:2]:
        p[-1] = "第一网格"
    for p in rows[2:4]:
        p[-1] = cast.grid_a2.code
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows, header=header))
    assert last_job().status == "done", last_job().errors
    assert Household.objects.get(village_code=VILLAGE_A, number="1").area_code == cast.grid_a1.code
    assert Household.objects.get(village_code=VILLAGE_A, number="2").area_code == cast.grid_a2.code
    assert Household.objects.get(village_code=VILLAGE_A, number="3").area_code == VILLAGE_A

    rows = [[*p, "第九网格"] for p in rosters.many_rows(1, start_number=50)]
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows, header=header))
    job = last_job()
    assert job.status == "failed"
    assert any(c == "网格" and "第九网格" in m and "第一网格" in m for _, c, m in errors_of(job))
    assert not village_households().filter(number="50").exists()


def test_household_without_head_and_with_two_heads(cast, client_for):
    rows = rosters.sample_rows()
    rows[0][4] = "子"  # household 1 loses its head
    rows[3][4] = "户主"  # household 2 gets a second head
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    errors = errors_of(last_job())
    assert (4, "与户主关系", "户号 1没有户主（每户须有且只有一名户主）") in errors
    assert any(r == 7 and "有多名户主" in m for r, _, m in errors)


def test_bad_phone_unknown_tag_long_address_and_junk_names(cast, client_for):
    rows = rosters.sample_rows()
    rows[0][8] = "1890000"  # too short
    rows[1][11] = ""
    rows[2][10] = "长" * 10_000
    rows[3][3] = "<script>alert(1)</script>"
    rows[4][3] = "陶'); DROP TABLE residents;--"
    header = [*rosters.HEADER, "人员标签"]
    rows = [[*p, ""] for p in rows]
    rows[5][-1] = "贫困户、党员"
    response = upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows, header=header))
    assert response.status_code == 302
    errors = errors_of(last_job())
    columns = {(r, c) for r, c, _ in errors}
    assert {(4, "联系电话"), (6, "家庭住址"), (7, "姓名"), (8, "姓名"), (9, "人员标签")} <= columns
    assert any("住址过长" in m for _, _, m in errors)
    assert any("未知标签：贫困户" in m for _, _, m in errors)
    assert not village_households().filter(number__in=["1", "2", "3"]).exists()
    page = client_for(cast.secretary_a).get(response["Location"]).content.decode()
    assert "<script>alert(1)</script>" not in page


def test_birth_date_and_sex_cross_checked_with_the_id(cast, client_for):
    rows = rosters.sample_rows()
    rows[0][7] = "1989.08.29"
    rows[1][6] = "男"
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    errors = errors_of(last_job())
    assert (4, "出生日期", "出生日期与身份证号中的出生日期不一致") in errors
    assert (5, "性别", "性别与身份证号不一致") in errors


def test_reimport_of_the_same_file_changes_nothing(cast, client_for):
    client = client_for(cast.secretary_a)
    data = rosters.roster_xlsx(rosters.sample_rows())
    upload(client, data)
    first = last_job()
    assert (first.households_created, first.residents_created) == (3, 7)
    residents = list(Resident.objects.order_by("pk").values())
    households = list(Household.objects.order_by("pk").values())
    events = AuditEvent.objects.count()

    upload(client, data)
    second = last_job()
    assert second.status == "done"
    assert (second.households_created, second.residents_created) == (0, 0)
    assert (second.households_updated, second.residents_updated) == (0, 0)
    assert list(Resident.objects.order_by("pk").values()) == residents
    assert list(Household.objects.order_by("pk").values()) == households
    # the only new audit row is the record of the import run itself
    new = list(AuditEvent.objects.order_by("id")[events:])
    assert [e.action for e in new] == ["residents.import"]
    assert new[0].details["residents_created"] == 0 and new[0].details["residents_updated"] == 0


def test_reimport_updates_only_what_changed_and_adds_new_members(cast, client_for):
    client = client_for(cast.secretary_a)
    rows = rosters.sample_rows()
    upload(client, rosters.roster_xlsx(rows))
    rows[1][8] = "13900000001"  # new phone for one person
    rows.append(rosters.person(8, 3, "陶凤明", "陶秋", "女", date(1986, 2, 7), False))
    upload(client, rosters.roster_xlsx(rows))
    job = last_job()
    assert job.status == "done", job.errors
    assert (job.households_created, job.residents_created, job.residents_updated) == (0, 1, 1)
    h3 = Household.objects.get(village_code=VILLAGE_A, number="3")
    assert h3.member_count == 4
    changed = Resident.objects.get(id_number_hash=crypto.blind_index(rows[1][5], "id_number"))
    assert changed.phone_hash == crypto.blind_index("13900000001", "phone")


def test_one_bad_row_means_zero_households_written(cast, client_for):
    rows = rosters.many_rows(30)
    rows[-1][5] = "341524" + "1" * 12  # the very last person has a bad ID
    before = (Household.objects.count(), Resident.objects.count(), SearchKey.objects.count())
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    job = last_job()
    assert job.status == "failed" and job.error_count == 1
    assert (Household.objects.count(), Resident.objects.count(), SearchKey.objects.count()) == before


def test_id_already_registered_in_another_village_or_household(cast, client_for):
    rows = rosters.sample_rows()
    household_b = services.household_create(actor=None, area_code=cast.grid_b1.code, number="B-9")
    services.resident_create(actor=None, household=household_b, name="邹洋杰", id_number=rows[1][5], relation="head")
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    assert (5, "公民身份号码", "该身份证号已在其他村（社区）登记，请先在原村办理迁出") in errors_of(last_job())

    rows = rosters.sample_rows()
    services.resident_create(actor=None, household=cast.household_a2, name="郭菊", id_number=rows[3][5], relation="son")
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows))
    assert (7, "公民身份号码", "该身份证号已登记在本村另一户（户号 A2-001）中") in errors_of(last_job())


def test_wrong_file_types_are_refused_with_a_chinese_message(cast, client_for):
    import io
    import zipfile

    client = client_for(cast.secretary_a)
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<document/>")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    for name, data in [("报告.docx", docx.getvalue()), ("照片.xlsx", png), ("伪装.xlsx", docx.getvalue()),
                       ("a.csv", b"\x00\x01\x02binary"), ("a.txt", b"name,id")]:  # fmt: skip
        response = upload(client, data, name)
        assert response.status_code == 400, name
        assert "无法读取该文件，请上传 .xlsx/.xls/.csv" in response.content.decode(), name
    assert not ImportJob.objects.exists()


def test_wrong_columns(cast, client_for):
    header = [h for h in rosters.HEADER if h != "公民身份号码"]
    rows = [[v for i, v in enumerate(p) if i != 5] for p in rosters.sample_rows()]
    response = upload(client_for(cast.secretary_a), rosters.roster_xlsx(rows, header=header))
    assert response.status_code == 400
    assert "缺少必需的列：身份证号" in response.content.decode()
    response = upload(client_for(cast.secretary_a), rosters.roster_csv([["a", "b"]], header=["甲", "乙"]), "x.csv")
    assert "缺少必需的列" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_empty_and_template_files_have_no_data_rows(cast, client_for):
    client = client_for(cast.secretary_a)
    template = client.get(reverse("residents:import_template"))
    assert template.status_code == 200
    response = upload(client, template.content)
    assert response.status_code == 400
    assert "没有数据行" in response.content.decode()  # the example rows are skipped


def test_80_megabyte_upload_gets_a_clear_message_not_a_500(cast, client_for):
    client = client_for(cast.secretary_a)
    big = b"\x00" * (80 * 1024 * 1024)
    response = upload(client, big, "大文件.xlsx")
    assert response.status_code == 413
    assert "文件过大：单个文件不能超过 20 MB" in response.content.decode()
    assert not ImportJob.objects.exists()
    imports = Path(settings.UPLOAD_DIR) / "imports"
    assert not imports.exists() or not any(imports.iterdir())


def test_upload_stopped_by_the_size_handler(cast, client_for, settings):
    settings.IMPORT_MAX_BYTES = 2000  # Content-Length below the early check, file above the limit
    response = upload(client_for(cast.secretary_a), rosters.roster_xlsx(rosters.many_rows(20)))
    assert response.status_code == 413
    assert "文件过大" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_large_file_runs_as_a_background_job_with_progress(cast, client_for, settings):
    settings.IMPORT_BACKGROUND_ROWS = 10
    client = client_for(cast.secretary_a)
    response = upload(client, rosters.roster_xlsx(rosters.many_rows(8)))  # 24 rows
    job = last_job()
    assert job.background is True
    assert job.status == "done" and job.residents_created == 24  # tests run tasks inline
    partial = client.get(reverse("residents:import_progress", args=[job.pk])).content.decode()
    assert "hx-get" not in partial and "导入完成" in partial  # polling stops when done
    page = client.get(response["Location"]).content.decode()
    assert 'id="residents-created">24<' in page


def test_progress_partial_polls_every_second_while_running(cast, client_for):
    from xiangzhi.residents import importer

    job = ImportJob.objects.create(area_code=VILLAGE_A, created_by=cast.secretary_a, file_name="a.xlsx",
                                   status="running", total_rows=5000)  # fmt: skip
    importer.set_progress(job.pk, "写入", 2500, 5000)
    partial = client_for(cast.secretary_a).get(reverse("residents:import_progress", args=[job.pk])).content.decode()
    assert f'hx-get="{reverse("residents:import_progress", args=[job.pk])}"' in partial
    assert 'hx-trigger="every 1s"' in partial
    assert "width: 50%" in partial and "2500 / 5000" in partial


def test_error_report_download(cast, client_for):
    import io

    from openpyxl import load_workbook

    rows = rosters.sample_rows()
    rows[2][5] = "12345"
    client = client_for(cast.secretary_a)
    upload(client, rosters.roster_xlsx(rows))
    response = client.get(reverse("residents:import_errors", args=[last_job().pk]))
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert ["行号", "列", "原因"] in values
    assert [6, "公民身份号码", "身份证号应为18位，当前为5位"] in values


# --- scope -----------------------------------------------------------------------------------
def test_secretary_of_village_b_cannot_import_into_village_a(cast, client_for):
    client = client_for(cast.secretary_b)
    page = client.get(URL).content.decode()
    assert VILLAGE_A not in page and VILLAGE_B in page
    response = upload(client, rosters.roster_xlsx(rosters.sample_rows()), area=VILLAGE_A)
    assert response.status_code == 400
    assert "请选择要导入到的村或网格" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not village_households().filter(number__in=["1", "2", "3"]).exists()


def test_import_pages_need_the_import_permission(cast, client_for, client):
    for user in (cast.grid_worker_a1, cast.villager, cast.auditor):
        assert client_for(user).get(URL).status_code == 403
        assert upload(client_for(user), rosters.roster_xlsx(rosters.sample_rows())).status_code == 403
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]
    assert not ImportJob.objects.exists()


def test_job_pages_are_scoped(cast, client_for):
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rosters.sample_rows()))
    job = last_job()
    for name in ("residents:import_job", "residents:import_progress", "residents:import_errors"):
        assert client_for(cast.secretary_b).get(reverse(name, args=[job.pk])).status_code == 404
    assert client_for(cast.township_admin).get(reverse("residents:import_job", args=[job.pk])).status_code == 200


def test_importing_into_a_grid_places_households_there(cast, client_for):
    upload(client_for(cast.secretary_a), rosters.roster_xlsx(rosters.sample_rows()), area=cast.grid_a2.code)
    assert last_job().status == "done"
    assert set(village_households().filter(number__in=["1", "2", "3"]).values_list("area_code", flat=True)) == {
        cast.grid_a2.code
    }
    assert set(Resident.objects.filter(household__number="1", household__village_code=VILLAGE_A).values_list(
        "area_code", flat=True)) == {cast.grid_a2.code}  # fmt: skip


def test_audit_event_has_counts_and_checksum_but_no_personal_data(cast, client_for):
    import hashlib

    rows = rosters.sample_rows()
    data = rosters.roster_xlsx(rows)
    upload(client_for(cast.secretary_a), data, "刘冲村花名册.xlsx")
    event = AuditEvent.objects.filter(action="residents.import").latest("id")
    assert event.details["sha256"] == hashlib.sha256(data).hexdigest()
    assert event.details["file_name"] == "刘冲村花名册.xlsx"
    assert event.details["residents_created"] == 7 and event.area_code == VILLAGE_A
    text = str(event.details)
    assert not any(p[5] in text or p[3] in text for p in rows)


def test_filled_in_template_imports(cast, client_for):
    import io

    from openpyxl import load_workbook

    client = client_for(cast.secretary_a)
    wb = load_workbook(io.BytesIO(client.get(reverse("residents:import_template")).content))
    ws = wb.active
    headers = [c.value for c in ws[2]]
    assert headers[:8] == ["序号", "网格", "户号", "户主姓名", "姓名", "与户主关系", "身份证号", "性别"]
    head, spouse = rosters.pid(date(1970, 5, 6), True), rosters.pid(date(1972, 8, 9), False)
    for no, name, relation, id_number in [(1, "田刚", "户主", head), (2, "黎秀", "妻", spouse)]:
        row = {"序号": no, "网格": "第二网格", "户号": "T-1", "户主姓名": "田刚", "姓名": name, "与户主关系": relation,
               "身份证号": id_number, "联系电话": "0564-5123456", "住址": "刘冲村西湾组19号", "人员标签": "党员、志愿者"}  # fmt: skip
        ws.append([row.get(h, "") for h in headers])
    buf = io.BytesIO()
    wb.save(buf)
    upload(client, buf.getvalue(), "模板.xlsx")
    job = last_job()
    assert job.status == "done", job.errors
    assert (job.households_created, job.residents_created) == (1, 2)  # the example rows were skipped
    h = Household.objects.get(village_code=VILLAGE_A, number="T-1")
    assert h.area_code == cast.grid_a2.code and h.head_name == "田刚" and h.member_count == 2
    assert Resident.objects.get(household=h, name="田刚").tags == ",party_member,volunteer,"


def test_rows_without_household_numbers_are_grouped_by_head_rows(cast, client_for):
    header = ["姓名", "与户主关系", "身份证号"]
    rows = [
        ["甲户主", "户主", rosters.pid(date(1960, 1, 1))],
        ["甲妻", "配偶", rosters.pid(date(1961, 1, 1), False)],
        ["乙户主", "户主", rosters.pid(date(1962, 1, 1))],
        ["乙子", "子", rosters.pid(date(1990, 1, 1))],
        ["乙女", "女", rosters.pid(date(1992, 1, 1), False)],
    ]
    client = client_for(cast.secretary_a)
    upload(client, rosters.roster_csv(rows, header=header, encoding="utf-8"), "无户号.csv")
    job = last_job()
    assert job.status == "done", job.errors
    assert (job.households_created, job.residents_created) == (2, 5)
    assert Resident.objects.get(name="乙女").household.head_name == "乙户主"
    upload(client, rosters.roster_csv(rows, header=header, encoding="utf-8"), "无户号.csv")
    assert (last_job().status, last_job().created_count, last_job().updated_count) == ("done", 0, 0)


def test_changing_the_head_needs_the_old_head_in_the_file(cast, client_for):
    client = client_for(cast.secretary_a)
    rows = rosters.sample_rows()
    upload(client, rosters.roster_xlsx(rows))
    household_1 = rows[:2]
    household_1[0][4], household_1[1][4] = "配偶", "户主"  # spouse becomes head, old head listed
    for p in household_1:
        p[2] = "邹洋杰"
    upload(client, rosters.roster_xlsx(household_1))
    job = last_job()
    assert job.status == "done", job.errors
    assert job.residents_updated == 2
    assert Household.objects.get(village_code=VILLAGE_A, number="1").head_name == "邹洋杰"

    newcomer = [rosters.person(1, 1, "新户主", "新户主", "户主", date(1980, 2, 2), True)]
    upload(client, rosters.roster_xlsx(newcomer))
    assert any("已登记了另一名户主" in m for _, _, m in errors_of(last_job()))


def test_two_groups_of_the_file_cannot_land_in_one_existing_household(cast, client_for):
    head, son = rosters.pid(date(1955, 3, 3)), rosters.pid(date(1985, 3, 3))
    household = services.household_create(actor=None, area_code=cast.grid_a1.code)  # no 户号 yet
    services.resident_create(actor=None, household=household, name="老赵", id_number=head, relation="head")
    services.resident_create(actor=None, household=household, name="小赵", id_number=son, relation="son")
    header = ["户号", "姓名", "与户主关系", "身份证号"]
    rows = [["5", "老赵", "户主", head], ["6", "小赵", "户主", son]]
    upload(client_for(cast.secretary_a), rosters.roster_csv(rows, header=header, encoding="utf-8"), "a.csv")
    assert (3, "户号", "与第 2 行开始的户对应系统中的同一户，请合并为一户") in errors_of(last_job())
    rows = [["5", "老赵", "户主", head], ["5", "小赵", "子", son]]
    upload(client_for(cast.secretary_a), rosters.roster_csv(rows, header=header, encoding="utf-8"), "b.csv")
    assert last_job().status == "done" and last_job().households_updated == 1  # it gets its 户号
    household.refresh_from_db()
    assert household.number == "5" and household.member_count == 2
