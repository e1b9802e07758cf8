"""Registers (台账): declare a list's columns once, get the HTML table, the Excel export and
the Excel/CSV import from the same declaration.

A module declares its register with :class:`Column` and :class:`Register`::

    PEOPLE = Register(
        title="花名册",
        columns=[
            Column("name", "姓名", accessor="name", width=10, required=True, parser=parse_name),
            Column("id_number", "身份证号", accessor=lambda r, ctx: masked(r), synonyms=("公民身份号码",)),
        ],
    )

and then:

* HTML: ``PEOPLE.headers`` and ``PEOPLE.html_rows(objects, ctx)`` (lists of display strings),
  or ``PEOPLE.as_html_table(objects, ctx)`` for a ready ``<table class="table xz-table">``;
* export: ``PEOPLE.xlsx_response(objects, filename=..., title=...)`` writes a write-only
  (streaming, constant memory) workbook to a temporary file in ``settings.EXPORT_DIR`` and
  streams it with ``FileResponse``; the file is unlinked as soon as it is opened. Every
  text cell goes through :func:`safe_cell` (formula-injection guard);
* import: ``PEOPLE.template_response(filename=...)`` is the blank template with the Chinese
  headers and an example row; ``read_table(PEOPLE, path, filename)`` reads .xlsx/.xls
  (python-calamine) or .csv (UTF-8 with or without BOM, GBK/GB18030, UTF-16), finds the
  header row within the first rows by the known header names and their synonyms, skips
  blank rows, example rows and trailer lines (填表人/审核人/签字/填报日期 …), and returns the
  data rows with their row numbers as the sheet shows them. ``PEOPLE.parse_row(row)`` runs
  each column's parser and collects Chinese messages per column.

File-level problems (wrong type, unreadable, missing columns) raise :class:`RegisterError`
with a message for the user. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

__all__ = [
    "Column",
    "Register",
    "RegisterError",
    "SheetRow",
    "Table",
    "detect_format",
    "normalize_code",
    "normalize_header",
    "parse_date",
    "read_table",
    "safe_cell",
]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters an xlsx cannot hold (XML 1.0 forbids most C0 controls).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
HEADER_SCAN_ROWS = 10
TRAILER = re.compile(
    r"^(填表人|填报人|制表人|统计人|审核人|审批人|复核人|负责人|联系人|经办人|村书记|书记|主任|"
    r"[^：:]{0,8}签字|[^：:]{0,8}签章|[^：:]{0,8}盖章|填报日期|填表日期|制表日期|审核日期|日期|合计|总计|小计|说明|注)"
    r"\s*[：:（(]?"
)
EXAMPLE_MARKERS = frozenset({"示例", "（示例）", "(示例)", "例"})
UNREADABLE = "无法读取该文件，请上传 .xlsx/.xls/.csv 格式的表格文件"
EXTENSIONS = (".xlsx", ".xls", ".csv")


class RegisterError(ValueError):
    """A file-level import problem; ``str(exc)`` is the Chinese message for the user."""


def safe_cell(value):
    """A value as it may be written to a spreadsheet cell. Text that a spreadsheet would
    run as a formula (= + - @, tab, CR first) gets a leading apostrophe and stays text;
    characters an xlsx cannot store are dropped."""
    if type(value) is not str:
        if value is None or isinstance(value, (bool, int, float, date, datetime)):  # noqa: UP038 - faster
            return value
        value = str(value)
    if not value.isprintable():  # fast path: most text has no control characters at all
        value = _ILLEGAL_XML.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def normalize_header(text) -> str:
    """Header cell → comparable key: NFKC, no whitespace, no required-marks or notes in
    brackets (``身份证号（必填）`` → ``身份证号``)."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text))
    value = re.sub(r"[(（\[【].*?[)）\]】]", "", value)
    value = re.sub(r"[\s*＊:：]", "", value)
    return value


def normalize_code(value) -> str:
    """Cell → code-like text: integral floats lose their ``.0``, full-width forms become
    ASCII (NFKC), every whitespace character goes."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value))
    return "".join(text.split())


_DATE_TEXT = re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value) -> date | None:
    """A date from what spreadsheets hold: date/datetime cells, Excel serial numbers,
    ``1987.07.13`` / ``1987-7-13`` / ``1987/07/13`` / ``1987年7月13日`` / ``19870713``.
    Blank → ``None``; anything else raises ``ValueError`` with a Chinese message."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel serial day numbers up to 9999-12-31
            return EXCEL_EPOCH + timedelta(days=int(value))
        raise ValueError("日期格式无法识别，请写成 1987-07-13")
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    match = _DATE_TEXT.match(text) or _DATE_COMPACT.match(text)
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            raise ValueError(f"“{text}”不是有效日期") from None
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # a serial number that became text
        return EXCEL_EPOCH + timedelta(days=int(float(text)))
    raise ValueError("日期格式无法识别，请写成 1987-07-13")


# --- declaration ----------------------------------------------------------------------------
Accessor = str | Callable[[Any, Any], Any] | None


@dataclass(frozen=True)
class Column:
    """One column of a register.

    key       identifier used in parsed rows (``row.values[key]``)
    header    the Chinese header written to exports and templates and matched on import
    accessor  export/HTML value: a dotted attribute path (``"household.number"``; for dict
              rows, a key such as ``"household__number"``), ``"#"`` for the running row
              number, or a callable ``(obj, ctx) -> value``; ``None`` = import-only column
    width     column width in the Excel export (characters)
    synonyms  other header texts accepted on import (``公民身份号码``, ``身份证号码`` …)
    parser    import: ``(raw) -> value``; raises ``ValueError``/``ValidationError`` with a
              Chinese message; ``None`` = the raw (trimmed) value is kept
    required  import: the file must have this column
    example   value of the template's example row
    text      export/template: keep the column as text in Excel (IDs, phones, codes)
    export    include in exports/HTML (set False for import-only helper columns)
    """

    key: str
    header: str
    accessor: Accessor = None
    width: float = 12
    synonyms: tuple[str, ...] = ()
    parser: Callable[[Any], Any] | None = None
    required: bool = False
    example: Any = ""
    text: bool = False
    export: bool = True
    importable: bool = True

    def names(self) -> set[str]:
        return {normalize_header(n) for n in (self.header, *self.synonyms)}

    def value(self, obj, ctx=None):
        acc = self.accessor
        if acc is None:
            return None
        if callable(acc):
            return acc(obj, ctx)
        if isinstance(obj, dict):
            return obj.get(acc)
        value = obj
        for part in acc.split("."):
            value = getattr(value, part, None) if value is not None else None
            if callable(value):
                value = value()
        return value


@dataclass
class SheetRow:
    number: int  # row number as the sheet shows it (1-based)
    values: dict[str, Any]


@dataclass
class Table:
    fmt: str  # xlsx / xls / csv
    sheet: str
    header_row: int
    headers: dict[str, str]  # column key → header text as written in the file
    rows: list[SheetRow] = field(default_factory=list)
    encoding: str = ""


def _display(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value if v not in (None, ""))
    return str(value)


def _excel_value(value):
    if type(value) is str or value is None:
        return safe_cell(value)
    if isinstance(value, (list, tuple)):  # noqa: UP038
        value = "、".join(str(v) for v in value if v not in (None, ""))
    elif isinstance(value, datetime) and value.tzinfo is not None:
        from django.utils import timezone

        value = timezone.localtime(value).replace(tzinfo=None)
    return safe_cell(value)


class Register:
    def __init__(self, *, title: str, columns: Iterable[Column], sheet_title: str | None = None):
        self.title = title
        self.columns = list(columns)
        self.sheet_title = sheet_title or title[:31]
        keys = [c.key for c in self.columns]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate column keys")

    # --- HTML ---------------------------------------------------------------------------
    @property
    def export_columns(self) -> list[Column]:
        return [c for c in self.columns if c.export and c.accessor is not None]

    @property
    def import_columns(self) -> list[Column]:
        return [c for c in self.columns if c.importable]

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.export_columns]

    def row(self, obj, ctx=None, index: int | None = None) -> list:
        return [get(obj, ctx, index) for get in self._getters()]

    def _getters(self) -> list:
        """One value function per export column, resolved once (exports call it 10⁵ times)."""
        getters = []
        for c in self.export_columns:
            acc = c.accessor
            if acc == "#":
                getters.append(lambda o, ctx, i: i)
            elif callable(acc):
                getters.append(lambda o, ctx, i, acc=acc: acc(o, ctx))
            else:
                getters.append(lambda o, ctx, i, acc=acc, c=c: o.get(acc) if type(o) is dict else c.value(o, ctx))
        return getters

    def html_rows(self, objects: Iterable, ctx=None) -> Iterator[list[str]]:
        getters = self._getters()
        for i, obj in enumerate(objects, start=1):
            yield [_display(get(obj, ctx, i)) for get in getters]

    def as_html_table(self, objects: Iterable, ctx=None, css_class: str = "table table-vcenter xz-table") -> SafeString:
        head = format_html_join("", "<th>{}</th>", ((h,) for h in self.headers))
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((v,) for v in cells)),) for cells in self.html_rows(objects, ctx)),
        )
        return format_html(
            '<table class="{}"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', css_class, head, body
        )

    # --- Excel export -------------------------------------------------------------------
    def write_xlsx(self, path, objects: Iterable, *, title: str | None = None, subtitle: str = "", ctx=None) -> int:
        """Write the export to ``path``: title row, optional subtitle row, header row, then
        one row per object, streamed straight into the zip (memory does not grow with the
        row count). Returns the number of data rows."""
        columns = self.export_columns
        with XlsxStreamWriter(path, sheet_title=_sheet_name(self.sheet_title)) as xw:
            header_row = 3 if subtitle else 2
            xw.start(widths=[c.width for c in columns], freeze_row=header_row, print_title_row=header_row)
            xw.row([safe_cell(title or self.title)], style=XlsxStreamWriter.TITLE, height=24)
            xw.merge(1, len(columns))
            if subtitle:
                xw.row([safe_cell(subtitle)])
                xw.merge(2, len(columns))
            xw.row([safe_cell(c.header) for c in columns], style=XlsxStreamWriter.BOLD)
            count = 0
            getters = self._getters()
            for obj in objects:
                count += 1
                xw.row([_excel_value(get(obj, ctx, count)) for get in getters])
        return count

    def export_file(self, objects: Iterable, *, title: str | None = None, subtitle: str = "", ctx=None):
        """Write the export to a new temporary file in ``settings.EXPORT_DIR``; returns
        (path, row count). The caller streams it with :func:`file_response`."""
        export_dir = Path(settings.EXPORT_DIR)
        export_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="export-", suffix=".xlsx", dir=export_dir)
        os.close(fd)
        try:
            count = self.write_xlsx(name, objects, title=title, subtitle=subtitle, ctx=ctx)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name), count

    def xlsx_response(
        self, objects: Iterable, *, filename: str, title: str | None = None, subtitle: str = "", ctx=None
    ):
        path, count = self.export_file(objects, title=title, subtitle=subtitle, ctx=ctx)
        return file_response(path, filename), count

    # --- import template ----------------------------------------------------------------
    def template_bytes(self, *, note: str = "", examples: list[dict] | None = None) -> bytes:
        """A blank import template: optional note row, the header row, example rows.
        Text columns (IDs, phones) are formatted as text so Excel keeps every digit."""
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        columns = self.import_columns
        wb = Workbook()
        ws = wb.active
        ws.title = _sheet_name(self.sheet_title)
        row = 1
        if note:
            ws.cell(row=1, column=1, value=safe_cell(note)).alignment = Alignment(wrap_text=True, vertical="top")
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
            ws.row_dimensions[1].height = 48
            row = 2
        for i, c in enumerate(columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = c.width
            cell = ws.cell(row=row, column=i, value=c.header)
            cell.font = Font(bold=True, color="C00000" if c.required else "000000")
        rows = examples or [{c.key: c.example for c in columns}]
        for example in rows:
            row += 1
            for i, c in enumerate(columns, start=1):
                cell = ws.cell(row=row, column=i, value=safe_cell(example.get(c.key, "")))
                if c.text:
                    cell.number_format = "@"
        # text format for the empty rows the user fills in (Excel keeps all 18 ID digits)
        for i, c in enumerate(columns, start=1):
            if c.text:
                for r in range(row + 1, row + 501):
                    ws.cell(row=r, column=i).number_format = "@"
        ws.freeze_panes = f"A{row - len(rows) + 1}"
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def template_response(self, *, filename: str, note: str = "", examples: list[dict] | None = None):
        from django.http import HttpResponse

        response = HttpResponse(
            self.template_bytes(note=note, examples=examples),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = _disposition(filename)
        return response

    # --- import ---------------------------------------------------------------------------
    def match_headers(self, cells: list) -> dict[str, int]:
        """Column key → index for the header cells that name a known column."""
        lookup: dict[str, str] = {}
        for c in self.import_columns:
            for n in c.names():
                lookup.setdefault(n, c.key)
        found: dict[str, int] = {}
        for i, cell in enumerate(cells):
            key = lookup.get(normalize_header(cell))
            if key and key not in found:
                found[key] = i
        return found

    def parse_row(self, row: SheetRow, headers: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
        """Run each column's parser: (values, [(column header, message)])."""
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for c in self.import_columns:
            if c.key not in row.values:
                continue
            raw = row.values[c.key]
            if c.parser is None:
                values[c.key] = raw.strip() if isinstance(raw, str) else raw
                continue
            try:
                values[c.key] = c.parser(raw)
            except ValidationError as exc:
                errors.append((headers.get(c.key, c.header), _first_message(exc)))
            except ValueError as exc:
                errors.append((headers.get(c.key, c.header), str(exc)))
        return values, errors


class XlsxStreamWriter:
    """A minimal SpreadsheetML (.xlsx) writer for registers: one sheet, inline strings,
    numbers, dates, bold/title styles, column widths, frozen header, merged title cells,
    repeated header row when printing. Rows are serialised to XML text and written into
    the zip member as they come (flushed every few hundred rows): constant memory and
    several times faster than openpyxl's write-only mode without lxml. Values must already
    have passed :func:`safe_cell`."""

    DEFAULT, BOLD, TITLE, DATE, DATETIME = 0, 1, 2, 3, 4
    _NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    _RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    FLUSH_ROWS = 500

    def __init__(self, path, *, sheet_title: str = "Sheet1"):
        self.path = path
        self.sheet_title = sheet_title
        self.row_number = 0
        self.merges: list[str] = []
        self.print_title_row = 0
        self._buffer: list[str] = []
        self._letters: list[str] = []

    def __enter__(self):
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=3)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._finish()
        finally:
            self._sheet.close()
            self._zip.close()
        return False

    def _write(self, text: str) -> None:
        self._sheet.write(text.encode("utf-8", "replace"))

    def _letter(self, index: int) -> str:
        while len(self._letters) <= index:
            n, out = len(self._letters) + 1, ""
            while n:
                n, rem = divmod(n - 1, 26)
                out = chr(65 + rem) + out
            self._letters.append(out)
        return self._letters[index]

    def start(self, *, widths, freeze_row: int = 0, print_title_row: int = 0) -> None:
        self.print_title_row = print_title_row
        parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {self._NS} {self._RNS}>']
        parts.append('<sheetViews><sheetView workbookViewId="0">')
        if freeze_row:
            parts.append(
                f'<pane ySplit="{freeze_row}" topLeftCell="A{freeze_row + 1}" activePane="bottomLeft" state="frozen"/>'
                f'<selection pane="bottomLeft" activeCell="A{freeze_row + 1}" sqref="A{freeze_row + 1}"/>'
            )
        parts.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        if widths:
            parts.append("<cols>")
            for i, w in enumerate(widths, start=1):
                parts.append(f'<col min="{i}" max="{i}" width="{float(w):g}" customWidth="1"/>')
            parts.append("</cols>")
        parts.append("<sheetData>")
        self._write("".join(parts))

    def merge(self, row: int, ncols: int) -> None:
        if ncols > 1:
            self.merges.append(f"A{row}:{self._letter(ncols - 1)}{row}")

    def row(self, values, *, style: int = 0, height: float | None = None) -> None:
        """Append one row. Text must already have passed :func:`safe_cell`."""
        self.row_number += 1
        r = self.row_number
        ht = f' ht="{height:g}" customHeight="1"' if height else ""
        s = f' s="{style}"' if style else ""
        cells = [f'<row r="{r}"{ht}>']
        append = cells.append
        letters = self._letters
        if len(letters) < len(values):
            self._letter(len(values) - 1)
        for i, value in enumerate(values):
            t = type(value)
            if t is str:
                if not value:
                    continue
                if "&" in value or "<" in value or ">" in value:
                    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                append(f'<c r="{letters[i]}{r}" t="inlineStr"{s}><is><t xml:space="preserve">{value}</t></is></c>')
            elif value is None:
                continue
            elif t is bool:
                append(f'<c r="{letters[i]}{r}" t="b"{s}><v>{int(value)}</v></c>')
            elif t is int or t is float:
                append(f'<c r="{letters[i]}{r}"{s}><v>{value!r}</v></c>')
            elif isinstance(value, datetime):
                serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
                append(f'<c r="{letters[i]}{r}" s="{self.DATETIME}"><v>{serial!r}</v></c>')
            elif isinstance(value, date):
                append(f'<c r="{letters[i]}{r}" s="{self.DATE}"><v>{(value - EXCEL_EPOCH).days}</v></c>')
            else:
                text = safe_cell(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                append(f'<c r="{letters[i]}{r}" t="inlineStr"{s}><is><t xml:space="preserve">{text}</t></is></c>')
        append("</row>")
        self._buffer.append("".join(cells))
        if len(self._buffer) >= self.FLUSH_ROWS:
            self._write("".join(self._buffer))
            self._buffer.clear()

    def _finish(self) -> None:
        tail = self._buffer + ["</sheetData>"]
        self._buffer = []
        if self.merges:
            tail.append(f'<mergeCells count="{len(self.merges)}">')
            tail.extend(f'<mergeCell ref="{m}"/>' for m in self.merges)
            tail.append("</mergeCells>")
        tail.append('<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>')
        tail.append('<pageSetup paperSize="9" orientation="landscape"/></worksheet>')
        self._write("".join(tail))
        self._sheet.close()
        z = self._zip
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _ROOT_RELS)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        name = self.sheet_title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        defined = ""
        if self.print_title_row:
            quoted = self.sheet_title.replace("'", "''").replace("&", "&amp;").replace("<", "&lt;")
            n = self.print_title_row
            defined = (
                f'<definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'
                f"'{quoted}'!${n}:${n}</definedName></definedNames>"
            )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook {self._NS} {self._RNS}>'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>{defined}</workbook>',
        )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# cellXfs: 0 normal, 1 bold (header), 2 title (bold 14pt, centred), 3 date, 4 date-time
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="3"><font><sz val="11"/><name val="宋体"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="宋体"/><family val="2"/></font>'
    '<font><b/><sz val="14"/><name val="宋体"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    "</fills>"
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment horizontal="center" vertical="center"/></xf>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def _first_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        for messages in exc.message_dict.values():
            if messages:
                return str(messages[0])
    return str(exc.messages[0]) if exc.messages else "格式不正确"


def _sheet_name(title: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", "", title)[:31] or "Sheet1"


def _disposition(filename: str) -> str:
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode() or "export.xlsx"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def file_response(path: Path, filename: str) -> FileResponse:
    """Stream ``path`` and delete it: the file is unlinked right after it is opened (the
    open handle keeps the data readable until the response is closed)."""
    handle = open(path, "rb")  # noqa: SIM115 - closed by FileResponse
    try:
        Path(path).unlink()
    except OSError:  # pragma: no cover - e.g. a platform that refuses unlinking open files
        pass
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Cache-Control"] = "no-store"
    return response


# --- reading files ----------------------------------------------------------------------
def detect_format(head: bytes, filename: str, path=None) -> str:
    """ "xlsx", "xls" or "csv" from the file's content (the extension only has to be one
    of .xlsx/.xls/.csv). A .docx, a picture renamed .xlsx or a binary file is refused."""
    ext = os.path.splitext(filename or "")[1].lower()
    if ext not in EXTENSIONS:
        raise RegisterError(UNREADABLE)
    if head.startswith(b"PK\x03\x04"):
        if path is None:
            raise RegisterError(UNREADABLE)
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError):
            raise RegisterError(UNREADABLE) from None
        if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
            return "xlsx"
        raise RegisterError(UNREADABLE)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if ext == ".csv":
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "csv"
        if b"\x00" in head:
            raise RegisterError(UNREADABLE)
        return "csv"
    raise RegisterError(UNREADABLE)


def _decode_text(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise RegisterError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件") from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError:
        raise RegisterError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV 文件") from None


def _csv_rows(path) -> tuple[Iterator[tuple[int, list]], str]:
    data = Path(path).read_bytes()
    text, encoding = _decode_text(data)
    if "\x00" in text:
        raise RegisterError(UNREADABLE)
    sample = text[:8192]
    delimiter = ","
    first_line = sample.splitlines()[0] if sample else ""
    if first_line.count("\t") > first_line.count(",") and "\t" in sample:
        delimiter = "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows():
        try:
            yield from enumerate(reader, start=1)
        except csv.Error:
            raise RegisterError(UNREADABLE) from None

    return rows(), encoding


def _workbook_sheets(path):
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception:  # noqa: BLE001 - any parser failure means: not a readable workbook
        raise RegisterError(UNREADABLE) from None
    return wb


def _sheet_rows(sheet) -> Iterator[tuple[int, list]]:
    # iter_rows() starts at the sheet's first row (row numbers stay as Excel shows them)
    yield from enumerate(sheet.iter_rows(), start=1)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_trailer(cells: list) -> bool:
    for cell in cells:
        if _blank(cell):
            continue
        text = unicodedata.normalize("NFKC", str(cell)).strip()
        return bool(TRAILER.match(text))
    return False


def _is_example(cells: list) -> bool:
    for cell in cells:
        if _blank(cell):
            continue
        return str(cell).strip() in EXAMPLE_MARKERS
    return False


def _find_header(register: Register, rows: Iterator[tuple[int, list]]):
    """Scan the first rows for the header; returns (header number, mapping, cells, the
    rows iterator positioned after the header) or raises RegisterError."""
    best = (0, None, None, None)  # score, number, mapping, cells
    seen = []
    for number, cells in rows:
        seen.append((number, cells))
        mapping = register.match_headers(list(cells))
        if len(mapping) > best[0]:
            best = (len(mapping), number, mapping, cells)
        if len(seen) >= HEADER_SCAN_ROWS:
            break
    score, number, mapping, cells = best
    required = [c for c in register.import_columns if c.required]
    if not score:
        names = "、".join(c.header for c in required)
        raise RegisterError(f"未找到表头：前 {HEADER_SCAN_ROWS} 行中没有可识别的列名。缺少必需的列：{names}")
    missing = [c.header for c in required if c.key not in mapping]
    if missing:
        raise RegisterError(f"缺少必需的列：{'、'.join(missing)}")
    rest = [(n, c) for n, c in seen if n > number]
    return number, mapping, cells, rest


def read_table(register: Register, path, filename: str, *, max_rows: int | None = None) -> Table:
    """Read an uploaded .xlsx/.xls/.csv into the register's columns (see module doc)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(8)
    fmt = detect_format(head, filename, path)
    encoding = ""
    if fmt == "csv":
        row_iter, encoding = _csv_rows(path)
        sheets = [("", row_iter)]
    else:
        wb = _workbook_sheets(path)
        sheets = []
        for name in wb.sheet_names[:20]:
            try:
                sheet = wb.get_sheet_by_name(name)
            except Exception:  # noqa: BLE001,S112 - chart sheets and the like
                continue
            sheets.append((name, _sheet_rows(sheet)))
        if not sheets:
            raise RegisterError(UNREADABLE)
    first_error = None
    for sheet_name, row_iter in sheets:
        try:
            number, mapping, cells, rest = _find_header(register, row_iter)
        except RegisterError as exc:
            first_error = first_error or exc
            continue
        headers = {key: str(cells[i]).strip() for key, i in mapping.items()}
        table = Table(fmt=fmt, sheet=sheet_name, header_row=number, headers=headers, encoding=encoding)

        def data_rows(rest=rest, row_iter=row_iter):
            yield from rest
            yield from row_iter

        for n, cells in data_rows():
            if all(_blank(c) for c in cells) or _is_trailer(cells) or _is_example(cells):
                continue
            values = {key: (cells[i] if i < len(cells) else "") for key, i in mapping.items()}
            if all(_blank(v) for v in values.values()):
                continue
            table.rows.append(SheetRow(number=n, values=values))
            if max_rows is not None and len(table.rows) > max_rows:
                raise RegisterError(f"单个文件最多 {max_rows} 行数据，请拆分后分批导入")
        return table
    raise first_error or RegisterError(UNREADABLE)
