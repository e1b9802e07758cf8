"""The household roster (户籍人口花名册) as a register: one declaration gives the export
(one row per resident, ID and phone masked), the import template and the import parsers.

``export_residents_xlsx(user, filters, path)`` writes the filtered, scoped export to a
file (used by the export view and by the benchmark that measures peak memory)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.core.exceptions import ValidationError

from xiangzhi.core import crypto, idcard
from xiangzhi.core.masking import mask_id_number, mask_phone
from xiangzhi.core.registers import Column, Register, normalize_code, parse_date
from xiangzhi.core.text import clean_text

from . import selectors, services
from .choices import (
    ALL_TAGS,
    HOUSEHOLD_TAGS,
    RELATION_BY_LABEL,
    TAG_BY_LABEL,
    Relation,
    ResidentStatus,
    Sex,
    tags_from_db,
)
from .models import Resident

MAX_NUMBER = 32
TAG_SPLIT = re.compile(r"[、,，;；/|\s]+")
# Relation words seen in village rosters beyond the labels in choices.RELATION_BY_LABEL.
RELATION_EXTRA = {
    "户主": "head", "本人或户主": "head",
    "媳妇": "daughter_in_law", "儿媳妇": "daughter_in_law", "长媳": "daughter_in_law", "次媳": "daughter_in_law",
    "孙": "grandchild", "孙女婿": "grandchild", "孙媳妇": "grandchild", "曾孙子": "grandchild", "曾孙女": "grandchild",
    "外孙": "grandchild", "岳父": "parent", "岳母": "parent", "祖父": "other", "祖母": "other",
    "兄弟": "sibling", "姐妹": "sibling", "哥哥": "sibling", "弟弟": "sibling", "姐姐": "sibling", "妹妹": "sibling",
    "侄子": "other", "侄女": "other", "外甥": "other", "外甥女": "other", "其它": "other", "其他亲属": "other",
    "非亲属": "other", "养子": "son", "养女": "daughter", "继子": "son", "继女": "daughter", "独子": "son", "独女": "daughter",
}  # fmt: skip
SEX_BY_LABEL = {"男": Sex.MALE, "女": Sex.FEMALE, "男性": Sex.MALE, "女性": Sex.FEMALE}
_CJK_SPACE = re.compile(r"(?<=[\u2e80-\u9fff\U00020000-\U0003134f])\s+(?=[\u2e80-\u9fff\U00020000-\U0003134f])")


# --- import parsers (one cell each; messages in Chinese) -----------------------------------
def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return clean_text(raw)


def parse_number(raw) -> str:
    value = normalize_code(raw)
    if len(value) > MAX_NUMBER:
        raise ValueError(f"户号过长（最多 {MAX_NUMBER} 个字符）")
    return value


def clean_name(raw) -> str:
    """Names padded for alignment (``许　英``) lose the spaces between Chinese characters."""
    return _CJK_SPACE.sub("", _text(raw))


def parse_name(raw) -> str:
    return services.prepare_name(clean_name(raw))


def parse_relation(raw) -> str:
    text = normalize_code(raw)
    if not text:
        raise ValueError("请填写与户主关系")
    code = RELATION_BY_LABEL.get(text) or RELATION_EXTRA.get(text)
    if code is None and text in Relation.values:
        code = text
    if code is None:
        raise ValueError(
            f"与户主关系“{text[:10]}”无法识别，可填：户主、配偶、子、女、孙子女、父母、儿媳、女婿、兄弟姐妹、其他"
        )
    return code


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def parse_id_number(raw) -> str:
    if isinstance(raw, float) or (isinstance(raw, str) and _SCIENTIFIC.match(raw.strip())):
        raise ValueError("身份证号被 Excel 存成了数字，后几位已丢失；请把该列设为“文本”格式后重新填写")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    try:
        return idcard.validate(raw)
    except idcard.IdNumberError as exc:
        raise ValueError(exc.message) from None


def parse_sex(raw) -> str:
    text = normalize_code(raw)
    if not text:
        return ""
    if text not in SEX_BY_LABEL:
        raise ValueError("性别只能填写“男”或“女”")
    return SEX_BY_LABEL[text]


def parse_phone(raw) -> str | None:
    if isinstance(raw, float) and raw.is_integer():
        raw = str(int(raw))
    try:
        return services.prepare_phone(raw)
    except ValidationError as exc:
        raise ValueError(exc.message_dict["phone"][0]) from None


def parse_address(raw) -> str:
    value = _text(raw)
    if len(value) > services.MAX_ADDRESS:
        raise ValueError(f"住址过长（最多 {services.MAX_ADDRESS} 个字，当前 {len(value)} 个字）")
    return value


def split_tags(raw) -> list[str]:
    text = unicodedata.normalize("NFKC", _text(raw))
    return [t for t in TAG_SPLIT.split(text) if t]


def _tag_codes(raw, allowed: dict) -> list[str]:
    codes, unknown = [], []
    for token in split_tags(raw):
        code = TAG_BY_LABEL.get(token) or (token if token in ALL_TAGS else None)
        if code is None or code not in allowed:
            unknown.append(token)
        elif code not in codes:
            codes.append(code)
    if unknown:
        known = "、".join(allowed.values())
        raise ValueError(f"未知标签：{'、'.join(u[:10] for u in unknown[:5])}（可用：{known}）")
    return codes


def parse_tags(raw) -> list[str]:
    """Resident tags column: any known tag (household tags found here go to the household)."""
    return _tag_codes(raw, ALL_TAGS)


def parse_household_tags(raw) -> list[str]:
    return _tag_codes(raw, HOUSEHOLD_TAGS)


def parse_note(raw) -> str:
    return _text(raw)[:500]


# --- export accessors (rows are plain dicts from ``export_rows``: no model instances) ----------
RELATION_LABELS = dict(Relation.choices)
SEX_LABELS = dict(Sex.choices)
STATUS_LABELS = dict(ResidentStatus.choices)


def _mask_id(value: str) -> str:
    return value[:6] + "********" + value[-4:] if len(value) == 18 else mask_id_number(value)


def _masked_id(r, ctx):
    enc = r["id_number_enc"]
    return _mask_id(crypto.decrypt(enc)) if enc else ""


def _masked_phone(r, ctx):
    enc = r["phone_enc"]
    return mask_phone(crypto.decrypt(enc)) if enc else ""


def _village(r, ctx):
    code = r["household__village_code"]
    return (ctx or {}).get("names", {}).get(code, code)


def _grid(r, ctx):
    code = r["household__area_code"]
    return (ctx or {}).get("names", {}).get(code, code) if len(code) > 12 else ""


@lru_cache(maxsize=4096)
def _labels(value: str) -> str:
    return "、".join(ALL_TAGS.get(c, c) for c in tags_from_db(value))


ROSTER = Register(
    title="户籍人口花名册",
    columns=[
        Column("seq", "序号", accessor="#", width=6, example="示例"),
        Column("village", "村（社区）", accessor=_village, width=10, importable=False),
        Column("grid", "网格", accessor=_grid, width=10, synonyms=("所属网格", "网格名称", "网格编号"),
               parser=normalize_code, example="第一网格"),
        Column("number", "户号", accessor="household__number", width=8, synonyms=("户编号", "户口编号", "户序号"),
               parser=parse_number, example="1", text=True),
        Column("head_name", "户主姓名", accessor="household__head_name", width=10, synonyms=("户主",),
               parser=clean_name, example="刘长喜"),
        Column("name", "姓名", accessor="name", width=10, synonyms=("成员姓名", "人员姓名"), parser=parse_name,
               required=True, example="刘长喜"),
        Column("relation", "与户主关系", accessor=lambda r, ctx: RELATION_LABELS.get(r["relation"], ""), width=10,
               synonyms=("关系", "与户主的关系", "家庭关系", "与户主关系名称"), parser=parse_relation, required=True,
               example="户主"),
        Column("id_number", "身份证号", accessor=_masked_id, width=21,
               synonyms=("公民身份号码", "身份证号码", "身份证", "证件号码", "公民身份证号码", "身份证件号码"),
               parser=parse_id_number, required=True, example="11010519491231002X", text=True),
        Column("sex", "性别", accessor=lambda r, ctx: SEX_LABELS.get(r["sex"], ""), width=6, parser=parse_sex, example="男"),
        Column("birth_date", "出生日期", width=12, synonyms=("出生年月日", "出生年月", "生日"), parser=parse_date,
               example="1949-12-31", export=False, text=True),
        Column("phone", "联系电话", accessor=_masked_phone, width=14,
               synonyms=("电话", "手机号", "手机", "手机号码", "电话号码", "联系方式", "联系电话号码"),
               parser=parse_phone, example="13800000000", text=True),
        Column("address", "住址", accessor="household__address", width=30,
               synonyms=("家庭住址", "现住址", "地址", "居住地址", "户籍地址", "详细地址"), parser=parse_address,
               example="某某镇某某村某某组1号"),
        Column("tags", "人员标签", accessor=lambda r, ctx: _labels(r["tags"]), width=16,
               synonyms=("标签", "人员类别", "人员类型", "身份类别", "人员属性"), parser=parse_tags, example="党员"),
        Column("household_tags", "户标签", accessor=lambda r, ctx: _labels(r["household__tags"]), width=12,
               synonyms=("户类别", "户类型", "家庭类别", "户属性"), parser=parse_household_tags, example="脱贫户"),
        Column("status", "状态", accessor=lambda r, ctx: STATUS_LABELS.get(r["status"], ""), width=6, importable=False),
        Column("note", "备注", width=16, parser=parse_note, export=False, example=""),
    ],
)  # fmt: skip

TEMPLATE_NOTE = (
    "户籍人口花名册导入模板：红色列名为必填（姓名、与户主关系、身份证号）。同一户号的成员为一户，每户有且只有一名户主；"
    "“网格”填本村网格名称（如 第一网格），不填则导入到所选的村或网格；标签可填 党员、脱贫户、低保户 等，多个用顿号分隔。"
    "身份证号、电话请保持“文本”格式。序号为“示例”的行导入时自动跳过。"
)
TEMPLATE_EXAMPLES = [
    {"seq": "示例", "grid": "第一网格", "number": "1", "head_name": "刘长喜", "name": "刘长喜", "relation": "户主",
     "id_number": "11010519491231002X", "sex": "女", "birth_date": "1949-12-31", "phone": "13800000000",
     "address": "某某镇某某村某某组1号", "tags": "党员", "household_tags": "脱贫户", "note": ""},
    {"seq": "示例", "grid": "第一网格", "number": "1", "head_name": "刘长喜", "name": "王秀英", "relation": "配偶",
     "id_number": "", "sex": "", "birth_date": "", "phone": "", "address": "某某镇某某村某某组1号", "tags": "",
     "household_tags": "", "note": ""},
]  # fmt: skip


# --- export ------------------------------------------------------------------------------------
EXPORT_FILTERS = ("q", "area_code", "village", "grid", "tag")


def clean_filters(raw) -> dict:
    """The list page's filters (q, village/grid or area_code, tag), validated. A full ID
    number typed into q is dropped (never searched through a URL)."""
    get = raw.get if hasattr(raw, "get") else dict(raw).get
    q = (get("q") or "")[:50].strip()
    if re.fullmatch(r"\d{17}[\dXx]", q):
        q = ""
    area = (get("grid") or get("village") or get("area_code") or "").strip()
    if not re.fullmatch(r"\d{2,15}", area):
        area = ""
    tag = get("tag") or ""
    if tag not in ALL_TAGS:
        tag = ""
    return {"q": q, "area_code": area, "tag": tag}


EXPORT_FIELDS = (
    "id", "household_id", "name", "relation", "sex", "tags", "status", "id_number_enc", "phone_enc",
    "household__area_code", "household__village_code", "household__number", "household__head_name",
    "household__address", "household__tags",
)  # fmt: skip
EXPORT_CHUNK = 500  # households per query


def export_households(user, filters: dict):
    """The households the user may export (``residents.export_household`` scope) that match
    the list filters, in register order (area, 户号, id)."""
    return selectors.household_list(
        user=user,
        q=filters.get("q", ""),
        area_code=filters.get("area_code", ""),
        tag=filters.get("tag", ""),
        action="export",
    )


def export_rows(user, filters: dict):
    """One dict per resident of the exported households, in register order. Reads the
    ordered household ids once, then the residents of 500 households per query: memory
    stays flat whatever the size of the export (no big sort, no model instances)."""
    ids = list(export_households(user, filters).values_list("pk", flat=True))
    for start in range(0, len(ids), EXPORT_CHUNK):
        chunk = ids[start : start + EXPORT_CHUNK]
        members: dict[int, list] = {}
        for r in Resident.objects.filter(household_id__in=chunk).order_by("household_id", "id").values(*EXPORT_FIELDS):
            members.setdefault(r["household_id"], []).append(r)
        for pk in chunk:
            yield from members.get(pk, ())


def export_context(user, filters: dict) -> dict:
    """Names of the villages and grids an export may mention (one small query)."""
    from xiangzhi.core.scoping import scopes_for
    from xiangzhi.org.models import Region

    prefixes, _ = scopes_for(user, "residents.export_household")
    area = filters.get("area_code", "")
    q = Region.objects.filter(level__in=("village", "grid"))
    if area:
        q = q.filter(code__startswith=area[:12])
    from django.db.models import Q

    cond = Q()
    for p in prefixes:
        cond |= Q(code__startswith=p[:12])
    names = dict(q.filter(cond).values_list("code", "name")) if prefixes else {}
    return {"names": names}


def export_title(user, filters: dict) -> tuple[str, str]:
    from django.utils import timezone

    from xiangzhi.org.selectors import area_name

    where = area_name(filters["area_code"]) if filters.get("area_code") else ""
    title = f"{where}户籍人口花名册" if where else ROSTER.title
    parts = [f"导出时间：{timezone.localtime():%Y-%m-%d %H:%M}", f"导出人：{user.get_username()}"]
    if filters.get("q"):
        parts.append(f"检索：{filters['q']}")
    if filters.get("tag"):
        parts.append(f"标签：{ALL_TAGS[filters['tag']]}")
    parts.append("身份证号、电话已脱敏")
    return title, "　".join(parts)


def export_residents_xlsx(user, filters: dict, path) -> int:
    """Write the scoped, filtered roster export to ``path``; returns the row count. Rows
    stream from the database (``iterator``) into a write-only workbook: constant memory."""
    filters = clean_filters(filters)
    title, subtitle = export_title(user, filters)
    rows = export_rows(user, filters)
    return ROSTER.write_xlsx(path, rows, title=title, subtitle=subtitle, ctx=export_context(user, filters))


# --- import error report -------------------------------------------------------------------------
IMPORT_ERRORS = Register(
    title="导入错误报告",
    columns=[
        Column("row", "行号", accessor=lambda e, ctx: e.get("row"), width=8),
        Column("column", "列", accessor=lambda e, ctx: e.get("column"), width=14),
        Column("message", "原因", accessor=lambda e, ctx: e.get("message"), width=70),
    ],
)
