"""API schemas of field work (走访): the phone's assignments, visit logging, problems → cases.
Inputs are bounded here so that junk is a 422 with a Chinese field message; business rules
(a future date, a household outside the area, another cadre's visit) are the services' 400/403."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from xiangzhi.core.api import MAX_ID, PageOut, Text

from .models import ContactKind, VisitKind

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
VisitKindCode = Literal[tuple(VisitKind.values)]  # type: ignore[valid-type]
ContactKindCode = Literal[tuple(ContactKind.values)]  # type: ignore[valid-type]
AreaCode = Text(15, pattern=r"[0-9]{12}([0-9]{3})?", message="应为 12 位村代码或 15 位网格代码")
AreaPrefix = Text(15, pattern=r"[0-9]{0,15}", message="应为区划代码（数字，最多 15 位）")
ClientId = Text(64, min_length=8, pattern=r"[A-Za-z0-9_.:-]{8,64}", message="应为 8–64 位字母、数字或 _.:-")

YEARS = (2000, 2100)


def dates_out_of_range(payload) -> dict[str, str]:
    """Dates outside 2000–2100 (field → Chinese message): a 400 business rule, as the case
    API does (JSON Schema cannot bound a date)."""
    errors = {}
    for name in type(payload).model_fields:
        value = getattr(payload, name, None)
        if isinstance(value, date) and not YEARS[0] <= value.year <= YEARS[1]:
            errors[name] = f"日期应在 {YEARS[0]} 年至 {YEARS[1]} 年之间"
    return errors


class _In(Schema):
    model_config = ConfigDict(extra="forbid")


def _drop_null_defaults(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


# --- my assignments ----------------------------------------------------------------------
class CadreRef(Schema):
    id: int
    name: str
    area_code: str
    area_name: str


class AssignedHouseholdOut(Schema):
    assignment: int = Field(description="联系户编号（ContactAssignment）")
    kind: str = Field(description="heart_link 连心工程 / four_links 四联四帮")
    kind_label: str
    household: int
    head_name: str
    number: str
    area_code: str
    area_name: str = Field(description="村·网格名称")
    help: str = Field(description="帮扶内容")
    start: date
    last_visited_on: date | None


class AssignedGroupOut(Schema):
    assignment: int
    village_code: str
    village_name: str
    group_name: str
    start: date
    last_met_on: date | None


class MyAssignmentsOut(Schema):
    cadre: CadreRef
    households: list[AssignedHouseholdOut]
    groups: list[AssignedGroupOut]


# --- visits ------------------------------------------------------------------------------
class VisitIn(_In):
    """One visit logged on a phone. ``client_id`` is the phone's draft id: sending the same
    draft again (lost connection) returns the same visit, never a second one."""

    kind: VisitKindCode = Field(VisitKind.VISIT.value, description="visit 入户走访 / bench_meeting 板凳会 / help 帮扶")
    visited_on: date = Field(description="走访日期（不能晚于今天）")
    households: list[Id] = Field(default_factory=list, max_length=50, description="走访的户（入户走访、帮扶必填）")
    group_name: Text(50) = Field("", description="村民小组（板凳会必填）")
    attendees: int = Field(0, ge=0, le=1000, description="参加人数（板凳会）")
    summary: Text(5000, min_length=1) = Field(description="走访内容")
    problems: list[Text(1000, min_length=1)] = Field(default_factory=list, max_length=20,
                                                     description="发现的问题（急难愁盼），每条可一键转为事项")
    latitude: float | None = Field(None, ge=-90, le=90, description="纬度（可选）")
    longitude: float | None = Field(None, ge=-180, le=180, description="经度（可选）")
    client_id: ClientId | None = Field(None, description="手机草稿编号：重发同一草稿返回同一条走访记录")
    cadre: Id | None = Field(None, description="走访干部（默认本人；书记、乡镇管理员可代记）")
    area_code: AreaCode | None = Field(None, description="走访地点（默认所走访户所在网格）")


class VisitFiltersIn(Schema):
    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)

    mine: bool = Field(False, description="只看我记录或我作为走访干部的走访")
    cadre: Id = Field(None, description="走访干部编号")
    kind: VisitKindCode = Field(None, description="方式")
    area_code: AreaPrefix = Field("", description="村或网格代码（前缀）")
    date_from: date = Field(None, description="走访日期起（含）")
    date_to: date = Field(None, description="走访日期止（含）")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class ProblemCaseRef(Schema):
    id: int
    tracking_code: str
    status: str
    status_label: str


class ProblemOut(Schema):
    id: int
    description: str
    household: int | None
    case: ProblemCaseRef | None = Field(description="已转为的事项（急难愁盼）")


class VisitHouseholdOut(Schema):
    id: int
    head_name: str
    area_code: str


class PhotoOut(Schema):
    id: int
    content_type: str
    size: int


class VisitOut(Schema):
    id: int
    cadre: CadreRef
    area_code: str
    visited_on: date
    kind: str
    kind_label: str
    household_count: int
    group_name: str
    attendees: int
    summary: str
    problem_count: int


class VisitPage(PageOut):
    items: list[VisitOut]


class VisitDetailOut(VisitOut):
    households: list[VisitHouseholdOut]
    problems: list[ProblemOut]
    photos: list[PhotoOut]
    latitude: float | None
    longitude: float | None
    client_id: str | None
    replayed: bool = Field(False, description="true：同一草稿已提交过，返回的是原记录")


class ProblemCaseOut(Schema):
    problem: int
    case: int
    tracking_code: str = Field(description="查询码（群众凭此查询办理进度）")
    status: str
    created: bool = Field(description="false：该问题此前已转为事项，返回原事项")
