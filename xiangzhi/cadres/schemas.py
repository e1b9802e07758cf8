"""API schemas of the cadre roster: the roster list (花名册 columns only), roster analytics
for an area and a date, and the logged-in cadre's own 四个一 / commitments."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from xiangzhi.core.api import MAX_ID, PageOut, Text

from .choices import CadreLevel, Establishment

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
LevelCode = Literal[tuple(CadreLevel.values)]  # type: ignore[valid-type]
EstablishmentCode = Literal[tuple(Establishment.values)]  # type: ignore[valid-type]
AreaPrefix = Text(15, pattern=r"[0-9]{0,15}", message="应为区划代码（数字，最多 15 位）")
UnitCode = Text(12, pattern=r"[0-9]{6}([0-9]{3}([0-9]{3})?)?", message="应为县（6 位）、乡镇（9 位）或村（12 位）代码")

YEARS = (2000, 2100)
Day = date  # a field below is called "date"


def dates_out_of_range(payload) -> dict[str, str]:
    errors = {}
    for name in type(payload).model_fields:
        value = getattr(payload, name, None)
        if isinstance(value, date) and not YEARS[0] <= value.year <= YEARS[1]:
            errors[name] = f"日期应在 {YEARS[0]} 年至 {YEARS[1]} 年之间"
    return errors


def _drop_null_defaults(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


# --- roster --------------------------------------------------------------------------------
class CadreFiltersIn(Schema):
    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)

    area_code: AreaPrefix = Field("", description="乡镇或村代码（前缀）")
    level: LevelCode = Field(None, description="township 镇干部 / village 村干部")
    establishment: EstablishmentCode = Field(None, description="编制")
    leadership: bool = Field(None, description="true：只看班子成员")
    q: Text(20) = Field("", description="姓名关键字")
    on: date = Field(None, description="在职日期（默认今天）：列出当日在任的干部")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class PostOut(Schema):
    title: str
    area_code: str
    leadership: bool
    is_secretary: bool
    is_director: bool
    honorary: str
    start: date
    end: date | None


class CadreOut(Schema):
    """花名册的列：不含身份证号、电话等个人信息；出生日期只到年月。"""

    id: int
    name: str
    sex: str
    sex_label: str
    birth_month: str = Field(description="出生年月 YYYY-MM")
    age: int = Field(description="在职日期当日的周岁")
    education: str
    education_label: str
    college_graduate: bool
    party_member: bool
    establishment: str
    establishment_label: str
    level: str
    area_code: str
    area_name: str
    posts: list[PostOut] = Field(description="在职日期当日担任的职务")


class CadrePage(PageOut):
    items: list[CadreOut]


# --- analytics -----------------------------------------------------------------------------
class AnalyticsIn(Schema):
    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)

    area: UnitCode = Field(None, description="县、乡镇或村代码（默认本人管辖区域）")
    date: Day = Field(None, description="统计日期（默认今天）")
    compare: Day = Field(None, description="对比日期：给出“年龄变小、学历变高、人数变少”的变化")


class RosterOut(Schema):
    on: date
    headcount: int
    by_establishment: dict[str, int] = Field(description="civil_service 行政编制 / public_institution 事业编制 / "
                                                         "sanzhi_yifu 三支一扶 / village 村干部 / other")
    average_age: float | None
    under_35: int
    under_35_share: float | None = Field(description="35 岁以下占比（%）")
    leaders: int = Field(description="班子成员人数")
    leaders_average_age: float | None
    leaders_under_35: int
    by_education: dict[str, int]
    college_share: float | None = Field(description="大专及以上学历占比（%）")
    average_education_rank: float | None = Field(description="学历平均等级（初中及以下 0 … 研究生 4）")
    villages: int
    villages_with_college_graduate: int = Field(description="有大学生村干部的村（每村一名大学生）")
    villages_with_dual_role: int = Field(description="书记主任“一肩挑”的村")
    village_cadres: int
    village_cadres_average_age: float | None


class ChangeOut(Schema):
    before: RosterOut
    headcount: int
    average_age: float | None
    village_cadres_average_age: float | None
    college_share: float | None
    average_education_rank: float | None
    villages_with_dual_role: int
    villages_with_college_graduate: int


class AnalyticsOut(Schema):
    area_code: str
    area_name: str
    roster: RosterOut
    change: ChangeOut | None = Field(description="与对比日期相比的变化（本期 − 对比期）")


# --- my training ---------------------------------------------------------------------------
class FourOnesItemOut(Schema):
    done_on: date
    title: str


class FourOnesKindOut(Schema):
    kind: str
    label: str
    quota: int
    done: int
    items: list[FourOnesItemOut]


class CommitmentOut(Schema):
    id: int
    promise: str
    deadline: date
    fulfilled_on: date | None
    overdue: bool


class MentorshipOut(Schema):
    role: Literal["mentor", "mentee"] = Field(description="mentor 我带的 / mentee 带我的")
    other: str
    start: date
    end: date | None


class SecondmentOut(Schema):
    to_where: str
    post: str
    start: date
    end: date


class LectureOut(Schema):
    held_on: date
    speaker: str
    topic: str


class TrainingOut(Schema):
    cadre: int
    name: str
    year: int
    young: bool = Field(description="当年 1 月 1 日未满 35 岁（“四个一”面向的青年干部）")
    four_ones: list[FourOnesKindOut]
    articles_missing_months: list[int] = Field(description="本年度已过去的月份中未交文章的月份")
    four_ones_complete: bool
    commitments: list[CommitmentOut] = Field(description="未践诺的承诺（逾期在前）及本年度已践诺的")
    lectures: list[LectureOut] = Field(description="本年度参加的业务大讲堂")
    mentorships: list[MentorshipOut]
    secondments: list[SecondmentOut]
