"""Cadre registers (台账): the roster (花名册: export, print, import template and parsers),
the training register (培养台账, one row per cadre and year) and the commendation/criticism
register (表扬与批评台账). One declaration each gives the HTML table and the Excel export."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date

from django.db.models import Count, Q

from xiangzhi.core.registers import Column, Register, normalize_code, parse_date
from xiangzhi.core.text import clean_text

from . import selectors
from .choices import FOUR_ONES_QUOTA, Education, Establishment, FourOnesKind
from .models import Commitment, Lecture, Mentorship, Secondment

YES = {"是", "√", "✓", "Y", "y", "yes", "YES", "1", "有", "TRUE", "True", "true"}
NO = {"否", "×", "N", "n", "no", "NO", "0", "无", "", "FALSE", "False", "false"}
_CJK_SPACE = re.compile(r"(?<=[\u2e80-\u9fff])\s+(?=[\u2e80-\u9fff])")

EDUCATION_BY_LABEL = {
    **{label: code for code, label in Education.choices},
    "研究生": "postgraduate", "硕士": "postgraduate", "博士": "postgraduate", "硕士研究生": "postgraduate",
    "博士研究生": "postgraduate", "本科": "bachelor", "大学": "bachelor", "大本": "bachelor", "学士": "bachelor",
    "专科": "junior_college", "大专": "junior_college", "高职": "junior_college", "高中": "secondary",
    "中专": "secondary", "职高": "secondary", "技校": "secondary", "高中/中专": "secondary", "中技": "secondary",
    "初中": "junior", "小学": "junior", "初中及以下": "junior", "文盲": "junior",
}  # fmt: skip
ESTABLISHMENT_BY_LABEL = {
    **{label: code for code, label in Establishment.choices},
    "行政": "civil_service", "公务员": "civil_service", "行政编": "civil_service", "参公": "civil_service",
    "事业": "public_institution", "事业编": "public_institution", "三支一扶": "sanzhi_yifu",
    "村干部": "village", "无": "village", "无编制": "village", "村": "village", "其他": "other", "其它": "other",
    "编外": "other", "聘用": "other",
}  # fmt: skip
SEX_BY_LABEL = {"男": "male", "女": "female", "男性": "male", "女性": "female"}
PARTY = {
    "中共党员": True,
    "党员": True,
    "中共预备党员": True,
    "预备党员": True,
    "群众": False,
    "共青团员": False,
    "团员": False,
    "民主党派": False,
    "无党派人士": False,
    "无党派": False,
    "": False,
}


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return clean_text(raw)


def parse_name(raw) -> str:
    name = _CJK_SPACE.sub("", _text(raw))
    if not name:
        raise ValueError("请填写姓名")
    if len(name) > 50 or any(c in name for c in "<>\"'&;=\\/"):
        raise ValueError("姓名格式不正确")
    return name


def parse_sex(raw) -> str:
    text = normalize_code(raw)
    if text not in SEX_BY_LABEL:
        raise ValueError("性别只能填写“男”或“女”")
    return SEX_BY_LABEL[text]


def parse_birth(raw) -> date:
    if raw in (None, ""):
        raise ValueError("请填写出生日期")
    return parse_date(raw)


def parse_optional_date(raw) -> date | None:
    return parse_date(raw)


def parse_education(raw) -> str:
    text = normalize_code(raw)
    if not text:
        raise ValueError("请填写学历")
    code = EDUCATION_BY_LABEL.get(text) or (text if text in Education.values else None)
    if code is None:
        raise ValueError(f"学历“{text[:10]}”无法识别，可填：研究生、大学本科、大学专科、高中/中专、初中及以下")
    return code


def parse_establishment(raw) -> str:
    text = normalize_code(raw)
    if not text:
        return ""  # a village cadre without establishment; the importer decides
    code = ESTABLISHMENT_BY_LABEL.get(text) or (text if text in Establishment.values else None)
    if code is None:
        raise ValueError(f"编制“{text[:10]}”无法识别，可填：行政编制、事业编制、三支一扶、村干部、其他")
    return code


def parse_yes_no(raw) -> bool:
    text = normalize_code(raw)
    if text in YES:
        return True
    if text in NO:
        return False
    raise ValueError("请填写“是”或“否”")


def parse_party(raw) -> bool:
    text = normalize_code(raw)
    if text in PARTY:
        return PARTY[text]
    raise ValueError("政治面貌可填：中共党员、预备党员、共青团员、群众")


def parse_title(raw) -> str:
    title = _text(raw)
    if len(title) > 50:
        raise ValueError("职务过长（最多 50 个字）")
    return title


def parse_unit(raw) -> str:
    return unicodedata.normalize("NFKC", _text(raw)).replace(" ", "")


def title_flags(title: str) -> dict:
    """Secretary / director / honorary read from the post's title as rosters write it
    (“村党总支书记、村委会主任” is both: 一肩挑)."""
    flags = {"is_secretary": False, "is_director": False, "honorary": ""}
    if "名誉书记" in title:
        flags["honorary"] = "honorary_secretary"
    elif "名誉主任" in title:
        flags["honorary"] = "honorary_director"
    else:
        flags["is_secretary"] = "书记" in title.replace("副书记", "")
        flags["is_director"] = "主任" in title.replace("副主任", "").replace("办公室主任", "")
    return flags


# --- the roster (花名册) -----------------------------------------------------------------------
def _unit(c, ctx):
    return getattr(c, "unit_name", c.area_code)


def _post_since(c, ctx):
    return c.post_since


ROSTER = Register(
    title="镇村干部花名册",
    columns=[
        Column("no", "序号", accessor="#", width=6, importable=False),
        Column(
            "unit",
            "单位",
            accessor=_unit,
            width=16,
            synonyms=("所在单位", "工作单位", "村（社区）", "村", "村名"),
            parser=parse_unit,
            example="刘冲村",
        ),
        Column("name", "姓名", accessor="name", width=10, required=True, parser=parse_name, example="张明"),
        Column(
            "sex",
            "性别",
            accessor=lambda c, ctx: c.get_sex_display(),
            width=6,
            required=True,
            parser=parse_sex,
            example="男",
        ),
        Column(
            "birth_date",
            "出生日期",
            accessor="birth_date",
            width=12,
            required=True,
            synonyms=("出生年月", "出生年月日", "生日"),
            parser=parse_birth,
            example="1990-05-01",
        ),
        Column("age", "年龄", accessor=lambda c, ctx: c.age, width=6, importable=False),
        Column(
            "education",
            "学历",
            accessor=lambda c, ctx: c.get_education_display(),
            width=10,
            required=True,
            synonyms=("文化程度", "最高学历"),
            parser=parse_education,
            example="大学本科",
        ),
        Column(
            "college_graduate",
            "全日制大学生",
            accessor=lambda c, ctx: "是" if c.college_graduate else "否",
            width=8,
            synonyms=("是否全日制大学生", "全日制"),
            parser=parse_yes_no,
            example="是",
        ),
        Column(
            "party",
            "政治面貌",
            accessor=lambda c, ctx: "中共党员" if c.party_member else "群众",
            width=10,
            parser=parse_party,
            example="中共党员",
        ),
        Column(
            "establishment",
            "编制",
            accessor=lambda c, ctx: c.get_establishment_display(),
            width=12,
            synonyms=("编制类型", "编制性质", "身份"),
            parser=parse_establishment,
            example="村干部",
        ),
        Column(
            "title",
            "职务",
            accessor=lambda c, ctx: c.post_titles,
            width=22,
            synonyms=("现任职务", "职务名称"),
            parser=parse_title,
            example="村党总支书记、村委会主任",
        ),
        Column(
            "leadership",
            "班子成员",
            accessor=lambda c, ctx: "是" if c.leader else "否",
            width=8,
            synonyms=("是否班子成员", "两委成员"),
            parser=parse_yes_no,
            example="是",
        ),
        Column(
            "dual_role",
            "一肩挑",
            accessor=lambda c, ctx: "是" if c.dual_role else "否",
            width=8,
            synonyms=("是否一肩挑",),
            parser=parse_yes_no,
            example="是",
        ),
        Column(
            "start",
            "任职时间",
            accessor=_post_since,
            width=12,
            synonyms=("任现职时间", "任职日期"),
            parser=parse_optional_date,
            example="2021-01-10",
        ),
        Column(
            "joined_on",
            "参加工作时间",
            accessor="joined_on",
            width=12,
            synonyms=("参加工作日期",),
            parser=parse_optional_date,
            example="2012-07-01",
        ),
    ],
)
TEMPLATE_NOTE = (
    "填写说明：一行一名干部。“单位”填村（社区）名称，镇干部填乡镇名称或留空；出生日期可写 1990-05-01、1990.05.01 或 "
    "1990年5月1日；学历填 研究生/大学本科/大学专科/高中/初中；编制填 行政编制/事业编制/三支一扶/村干部/其他；"
    "“职务”含“书记”“主任”的自动识别为书记、主任（两者都有即一肩挑）。同一单位同名同出生日期视为同一人，重复导入不会重复登记。"
)


def roster_rows(qs, *, on: date, chunk: int = 500) -> Iterator:
    """The roster queryset, decorated (posts, age) chunk by chunk: constant memory."""
    batch = []
    for cadre in qs.iterator(chunk_size=chunk):
        batch.append(cadre)
        if len(batch) >= chunk:
            selectors.decorate(batch, on)
            yield from batch
            batch = []
    if batch:
        selectors.decorate(batch, on)
        yield from batch


# --- the training register (培养台账) ------------------------------------------------------------
def training_rows(cadres: Iterable, *, year: int, today: date) -> list[dict]:
    """One row per cadre for ``year``: 四个一 (young cadres), lectures attended,
    commitments, mentoring, secondments, overdue items. A handful of grouped queries."""
    cadres = list(cadres)
    ids = [c.pk for c in cadres]
    young_ids = [c.pk for c in cadres if c.young]
    four = {r["cadre"].pk: r for r in selectors.four_ones_rows([c for c in cadres if c.young], year=year, today=today)}
    lectures = dict(
        Lecture.attendees.through.objects.filter(cadre_id__in=ids, lecture__held_on__year=year)
        .values("cadre_id")
        .annotate(n=Count("id"))
        .values_list("cadre_id", "n")
    )
    commitments = {}
    for row in (
        Commitment.objects.filter(cadre_id__in=ids, deadline__year=year)
        .values("cadre_id")
        .annotate(
            n=Count("id"),
            done=Count("id", filter=Q(fulfilled_on__isnull=False)),
            late=Count("id", filter=Q(fulfilled_on__isnull=True, deadline__lt=today)),
        )
    ):
        commitments[row["cadre_id"]] = row
    mentors: dict[int, list[str]] = {}
    for mentee_id, name in Mentorship.objects.filter(mentee_id__in=ids).values_list("mentee_id", "mentor__name"):
        mentors.setdefault(mentee_id, []).append(name)
    seconded: dict[int, list[str]] = {}
    for cadre_id, where in Secondment.objects.filter(
        cadre_id__in=ids, start__year__lte=year, end__year__gte=year
    ).values_list("cadre_id", "to_where"):
        seconded.setdefault(cadre_id, []).append(where)
    out = []
    for c in cadres:
        f = four.get(c.pk)
        items = {i["kind"]: i["done"] for i in f["items"]} if f else {}
        com = commitments.get(c.pk, {})
        overdue = list(f["overdue"]) if f else []
        if com.get("late"):
            overdue.append(f"承诺逾期 {com['late']} 项")
        out.append({
            "name": c.name, "unit": getattr(c, "unit_name", c.area_code), "age": c.age,
            "young": "是" if c.pk in young_ids else "否",
            "symposium": items.get(FourOnesKind.SYMPOSIUM, "—") if f else "—",
            "book": items.get(FourOnesKind.BOOK, "—") if f else "—",
            "speech": items.get(FourOnesKind.SPEECH, "—") if f else "—",
            "articles": f"{items.get(FourOnesKind.ARTICLE, 0)}/{FOUR_ONES_QUOTA[FourOnesKind.ARTICLE]}" if f else "—",
            "lectures": lectures.get(c.pk, 0),
            "commitments": f"{com.get('done', 0)}/{com.get('n', 0)}" if com else "0/0",
            "mentors": "、".join(mentors.get(c.pk, [])),
            "secondment": "、".join(seconded.get(c.pk, [])),
            "overdue": "；".join(overdue),
        })  # fmt: skip
    return out


TRAINING = Register(
    title="干部培养台账",
    columns=[
        Column("no", "序号", accessor="#", width=6),
        Column("name", "姓名", accessor="name", width=10),
        Column("unit", "单位", accessor="unit", width=16),
        Column("age", "年龄", accessor="age", width=6),
        Column("young", "35岁以下", accessor="young", width=8),
        Column("symposium", "座谈会（次）", accessor="symposium", width=10),
        Column("book", "赠书（本）", accessor="book", width=10),
        Column("speech", "演讲比赛（次）", accessor="speech", width=10),
        Column("articles", "文章（篇/年）", accessor="articles", width=10),
        Column("lectures", "业务大讲堂（次）", accessor="lectures", width=10),
        Column("commitments", "承诺（践诺/总数）", accessor="commitments", width=12),
        Column("mentors", "结对师傅", accessor="mentors", width=12),
        Column("secondment", "挂职", accessor="secondment", width=16),
        Column("overdue", "逾期事项", accessor="overdue", width=30),
    ],
)


# --- commendations and criticism (表扬与批评台账) -------------------------------------------------
RECOGNITIONS = Register(
    title="表扬与通报批评台账",
    columns=[
        Column("no", "序号", accessor="#", width=6),
        Column("issued_on", "日期", accessor="issued_on", width=12),
        Column("kind", "类型", accessor=lambda r, ctx: r.get_kind_display(), width=10),
        Column("target", "对象类型", accessor=lambda r, ctx: r.get_target_display(), width=8),
        Column("who", "干部/单位", accessor=lambda r, ctx: r.cadre.name if r.cadre_id else r.unit_name, width=16),
        Column("area", "所属乡镇/村", accessor=lambda r, ctx: (ctx or {}).get(r.area_code, r.area_code), width=14),
        Column("title", "荣誉称号", accessor="title", width=12),
        Column("reason", "事由", accessor="reason", width=40),
        Column("issuer", "发文单位", accessor="issuer", width=16),
        Column("document_no", "文号", accessor="document_no", width=16),
    ],
)
