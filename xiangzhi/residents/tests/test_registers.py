"""The generic register mechanism (xiangzhi.core.registers): declaration → HTML rows, xlsx
export with title/header and formula guard, import template, file reading (xlsx, CSV in
UTF-8/GBK/UTF-16), header detection, trailer/blank/example rows, date parsing."""

import io
import zipfile
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook

from xiangzhi.core.registers import (
    Column,
    Register,
    RegisterError,
    detect_format,
    normalize_code,
    normalize_header,
    parse_date,
    read_table,
    safe_cell,
)
from xiangzhi.residents.registers import ROSTER, parse_relation

PEOPLE = Register(
    title="测试名册",
    columns=[
        Column("seq", "序号", accessor="#", width=6, example="示例"),
        Column("name", "姓名", accessor="name", required=True, example="张三"),
        Column("id_number", "身份证号", accessor="masked", synonyms=("公民身份号码", "身份证号码"), required=True,
               text=True, example="110105194912310021"),
        Column("born", "出生日期", parser=parse_date, export=False),
        Column("city", "城市", accessor="place.city", width=20, synonyms=("所在城市",)),
        Column("score", "分数", accessor=lambda o, ctx: o.score * (ctx or {}).get("factor", 1)),
    ],
)  # fmt: skip


def person(name="张三", city="六安", score=1, masked="341524********0011"):
    return SimpleNamespace(name=name, masked=masked, place=SimpleNamespace(city=city), score=score)


def xlsx_bytes(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


# --- declaration and HTML -----------------------------------------------------------------
def test_headers_and_html_rows_come_from_the_declaration():
    assert PEOPLE.headers == ["序号", "姓名", "身份证号", "城市", "分数"]
    rows = list(PEOPLE.html_rows([person(), person("李四", score=2)], {"factor": 10}))
    assert rows == [
        ["1", "张三", "341524********0011", "六安", "10"],
        ["2", "李四", "341524********0011", "六安", "20"],
    ]


def test_html_table_escapes_cell_text():
    html = str(PEOPLE.as_html_table([person(name="<script>alert(1)</script>")]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.startswith('<table class="table table-vcenter xz-table">') and "<th>身份证号</th>" in html


def test_duplicate_column_keys_are_refused():
    with pytest.raises(ValueError):
        Register(title="x", columns=[Column("a", "甲"), Column("a", "乙")])


# --- export ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("刘冲村", "刘冲村"),
        ("a\x00b\x07c", "abc"),
        (-5, -5),
        (3.5, 3.5),
        (None, None),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_write_xlsx_title_subtitle_header_and_guarded_cells(tmp_path):
    path = tmp_path / "out.xlsx"
    n = PEOPLE.write_xlsx(
        path, [person(city='=HYPERLINK("http://x","y")'), person("李四")], title="标题", subtitle="副标题"
    )
    assert n == 2
    ws = load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "标题" and rows[1][0] == "副标题"
    assert rows[2] == ["序号", "姓名", "身份证号", "城市", "分数"]
    assert rows[3] == [1, "张三", "341524********0011", '\'=HYPERLINK("http://x","y")', 1]
    assert "A1:E1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.freeze_panes == "A4"
    with zipfile.ZipFile(path) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


def test_write_xlsx_streams_a_generator_without_holding_rows(tmp_path):
    produced = []

    def rows():
        for i in range(1000):
            produced.append(i)
            yield person(f"人{i}", score=i)

    assert PEOPLE.write_xlsx(tmp_path / "big.xlsx", rows()) == 1000
    assert len(produced) == 1000


def test_export_file_goes_to_the_export_dir_and_response_deletes_it(tmp_path, settings):
    from xiangzhi.core.registers import file_response

    settings.EXPORT_DIR = tmp_path
    path, count = PEOPLE.export_file([person()], title="t")
    assert path.parent == tmp_path and count == 1
    response = file_response(path, "名册.xlsx")
    assert not path.exists()  # unlinked once opened; the open handle still streams
    data = b"".join(response.streaming_content)
    assert data.startswith(b"PK")
    assert "filename*=utf-8''%E5%90%8D%E5%86%8C.xlsx" in response["Content-Disposition"]


def test_template_has_headers_example_and_text_columns():
    wb = load_workbook(io.BytesIO(PEOPLE.template_bytes(note="说明")))
    ws = wb.active
    assert ws["A1"].value == "说明"
    assert [c.value for c in ws[2]] == ["序号", "姓名", "身份证号", "出生日期", "城市", "分数"]
    assert ws["C3"].value == "110105194912310021" and ws["C3"].number_format == "@"
    assert ws["C10"].number_format == "@"  # rows the user fills in keep all 18 digits


# --- reading -----------------------------------------------------------------------------------
def test_header_found_below_title_rows_with_synonyms_and_notes(tmp_path):
    data = xlsx_bytes(
        [
            ["某村花名册"],
            ["填报单位：某村"],
            [],
            ["序号", "姓名*", "公民身份号码（必填）", "所在城市"],
            [1, "张三", "x", "六安"],
        ]
    )
    table = read_table(PEOPLE, write(tmp_path, "a.xlsx", data), "a.xlsx")
    assert table.header_row == 4 and table.fmt == "xlsx"
    assert table.headers == {"seq": "序号", "name": "姓名*", "id_number": "公民身份号码（必填）", "city": "所在城市"}
    assert [(r.number, r.values["name"]) for r in table.rows] == [(5, "张三")]


def test_header_beyond_the_first_ten_rows_is_not_found(tmp_path):
    data = xlsx_bytes([[f"说明{i}"] for i in range(10)] + [["姓名", "身份证号"], ["张三", "1"]])
    with pytest.raises(RegisterError, match="未找到表头"):
        read_table(PEOPLE, write(tmp_path, "a.xlsx", data), "a.xlsx")


def test_missing_required_column(tmp_path):
    data = xlsx_bytes([["姓名", "城市"], ["张三", "六安"]])
    with pytest.raises(RegisterError, match="^缺少必需的列：身份证号$"):
        read_table(PEOPLE, write(tmp_path, "a.xlsx", data), "a.xlsx")


def test_blank_example_and_trailer_rows_are_skipped_and_row_numbers_kept(tmp_path):
    data = xlsx_bytes(
        [
            ["序号", "姓名", "身份证号"],
            ["示例", "张三", "1"],
            [1, "李四", "2"],
            [None, None, None],
            ["", "  ", ""],
            [2, "王五", "3"],
            [],
            ["填表人：", "", "审核人："],
            ["村书记签字：", "", ""],
            ["填报日期：2023年3月15日"],
            ["合计：2人"],
        ]
    )
    table = read_table(PEOPLE, write(tmp_path, "a.xlsx", data), "a.xlsx")
    assert [(r.number, r.values["name"]) for r in table.rows] == [(3, "李四"), (6, "王五")]


def test_leading_empty_rows_keep_sheet_row_numbers(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["B3"], ws["C3"] = "姓名", "身份证号"
    ws["B4"], ws["C4"] = "张三", "1"
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(PEOPLE, write(tmp_path, "a.xlsx", buf.getvalue()), "a.xlsx")
    assert table.header_row == 3 and table.rows[0].number == 4 and table.rows[0].values["name"] == "张三"


@pytest.mark.parametrize(
    ("encoding", "prefix", "expected"),
    [
        ("utf-8", b"", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", "utf-8"),
        ("gbk", b"", "gb18030"),
        ("gb18030", b"", "gb18030"),
    ],
)
def test_csv_encodings(tmp_path, encoding, prefix, expected):
    text = "标题行\r\n姓名,公民身份号码,城市\r\n张三,110105194912310021,六安\r\n䃥镇人,110105194912310021,流波䃥\r\n"
    if encoding == "gbk":
        text = text.replace("䃥", "")  # GBK proper lacks the rare character; GB18030 has it
    p = write(tmp_path, "a.csv", prefix + text.encode(encoding))
    table = read_table(PEOPLE, p, "a.csv")
    assert table.encoding == expected and table.header_row == 2
    assert table.rows[0].values == {"name": "张三", "id_number": "110105194912310021", "city": "六安"}
    if encoding != "gbk":
        assert table.rows[1].values["city"] == "流波䃥"


def test_utf16_tab_separated_csv(tmp_path):
    text = "姓名\t身份证号\r\n张三\t1\r\n"
    table = read_table(PEOPLE, write(tmp_path, "a.csv", text.encode("utf-16")), "a.csv")
    assert table.rows[0].values == {"name": "张三", "id_number": "1"}


def test_undecodable_csv(tmp_path):
    with pytest.raises(RegisterError, match="编码"):
        read_table(PEOPLE, write(tmp_path, "a.csv", b"\xff\xff\xfe\x81\x30"), "a.csv")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.xlsx", b"\x89PNG\r\n\x1a\n" + b"0" * 50),
        ("a.xlsx", b"PK\x03\x04broken zip"),
        ("a.xls", b"plain text"),
        ("a.pdf", b"%PDF-1.7"),
        ("a.csv", b"a,b\x00c"),
        ("noext", b"a,b"),
    ],
)
def test_unreadable_files(tmp_path, name, data):
    with pytest.raises(RegisterError, match="无法读取该文件，请上传 .xlsx/.xls/.csv"):
        read_table(PEOPLE, write(tmp_path, name, data), name)


def test_detect_format_by_content_not_name(tmp_path):
    xlsx = write(tmp_path, "a.xls", xlsx_bytes([["姓名"]]))
    assert detect_format(xlsx.read_bytes()[:8], "a.xls", xlsx) == "xlsx"  # an xlsx saved as .xls is fine
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    assert detect_format(ole, "old.xls") == "xls"


def test_max_rows(tmp_path):
    data = xlsx_bytes([["姓名", "身份证号"]] + [[f"人{i}", str(i)] for i in range(20)])
    with pytest.raises(RegisterError, match="最多 10 行"):
        read_table(PEOPLE, write(tmp_path, "a.xlsx", data), "a.xlsx", max_rows=10)


def test_parse_row_collects_messages_per_column(tmp_path):
    data = xlsx_bytes([["姓名", "身份证号", "出生日期"], ["张三", "1", "1987.13.40"], ["李四", "2", 31971]])
    table = read_table(PEOPLE, write(tmp_path, "a.xlsx", data), "a.xlsx")
    values, errors = PEOPLE.parse_row(table.rows[0], table.headers)
    assert errors == [("出生日期", "“1987.13.40”不是有效日期")]
    values, errors = PEOPLE.parse_row(table.rows[1], table.headers)
    assert errors == [] and values["born"] == date(1987, 7, 13)


# --- normalisation -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1987.07.13", date(1987, 7, 13)),
        ("1987-7-13", date(1987, 7, 13)),
        ("1987/07/13", date(1987, 7, 13)),
        ("1987年7月13日", date(1987, 7, 13)),
        ("１９８７．０７．１３", date(1987, 7, 13)),
        ("19870713", date(1987, 7, 13)),
        (31971, date(1987, 7, 13)),
        (31971.0, date(1987, 7, 13)),
        ("31971", date(1987, 7, 13)),
        (date(1987, 7, 13), date(1987, 7, 13)),
        (datetime(1987, 7, 13, 0, 0), date(1987, 7, 13)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["1987.02.30", "明年", "13/07/1987", -1])
def test_parse_date_rejects(raw):
    with pytest.raises(ValueError):
        parse_date(raw)


def test_normalizers():
    assert normalize_header(" 身份证号（必填）* ") == "身份证号"
    assert normalize_header("公民身份号码\n") == "公民身份号码"
    assert normalize_code(12.0) == "12"
    assert normalize_code("１２ ３") == "123"
    assert normalize_code(None) == ""


def test_roster_register_accepts_the_usual_header_names():
    cells = ["序号", "户号", "户主姓名", "姓名", "与户主关系", "公民身份号码", "性别", "出生日期", "联系电话", "所属网格",
             "家庭住址", "人员类别", "户标签", "备注"]  # fmt: skip
    found = ROSTER.match_headers(cells)
    assert set(found) == {"seq", "number", "head_name", "name", "relation", "id_number", "sex", "birth_date", "phone",
                          "grid", "address", "tags", "household_tags", "note"}  # fmt: skip
    for synonyms in (["身份证号", "身份证号码"], ["关系"], ["电话", "手机号"], ["网格"], ["住址"], ["标签"]):
        for s in synonyms:
            assert ROSTER.match_headers([s]), s


def test_relation_words():
    assert parse_relation("户主") == "head"
    assert parse_relation(" 妻 ") == "spouse"
    assert parse_relation("长子") == "son"
    assert parse_relation("儿媳妇") == "daughter_in_law"
    with pytest.raises(ValueError, match="无法识别"):
        parse_relation("邻居")
    with pytest.raises(ValueError, match="请填写"):
        parse_relation("")
