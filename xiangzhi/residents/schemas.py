"""API schemas of the household registry. Outputs never carry a plaintext ID number or
phone: only ``id_number_masked`` / ``phone_masked`` (the full values come from the audited
``reveal`` operation). Inputs are constrained here so that junk is a 422 with a Chinese
field message; business rules (GB 11643 check digit, uniqueness, area) are the services'
400s."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from xiangzhi.core.api import MAX_ID, PageOut, Text

from .choices import HOUSEHOLD_TAGS, RESIDENT_TAGS, Relation, ResidentStatus

HouseholdTag = Literal[tuple(HOUSEHOLD_TAGS)]  # type: ignore[valid-type]
ResidentTag = Literal[tuple(RESIDENT_TAGS)]  # type: ignore[valid-type]
AnyTag = Literal[tuple({**HOUSEHOLD_TAGS, **RESIDENT_TAGS})]  # type: ignore[valid-type]
RelationCode = Literal[tuple(Relation.values)]  # type: ignore[valid-type]
StatusCode = Literal[tuple(ResidentStatus.values)]  # type: ignore[valid-type]

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
AreaCode = Text(15, pattern=r"[0-9]{12}([0-9]{3})?", message="应为 12 位村代码或 15 位网格代码")
AreaPrefix = Text(15, pattern=r"[0-9]{0,15}", message="应为区划代码（数字，最多 15 位）")
HouseholdNumber = Text(32)
Address = Text(200)
Note = Text(500)
Name = Text(50, min_length=1, pattern="[^\\x00<>\"'&;=\\\\/]+", message="姓名中含有不允许的字符")
IdNumber = Text(18, min_length=18, pattern=r"[0-9]{17}[0-9Xx]", message="身份证号应为 18 位（最后一位可为 X）")
Phone = Text(20, min_length=5, pattern=r"[0-9+() -]{5,20}", message="电话号码格式不正确")
Reason = Text(200, min_length=4)
SearchText = Text(50)


class _In(Schema):
    """Input: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def _drop_null_defaults(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


class _Patch(_In):
    """PATCH body: every field optional; only the fields sent are changed. ``null`` is not a
    value for fields that cannot be empty, so the schema shows no ``null`` default."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_null_defaults)


# --- households ------------------------------------------------------------------------
class _Filters(Schema):
    """Query parameters: an omitted filter is absent, never ``null``."""

    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)


class HouseholdFilters(_Filters):
    q: SearchText = Field("", description="姓名、拼音或首字母（lcx 找到刘长喜）、户号、身份证后 4 位")
    area_code: AreaPrefix = Field("", description="村或网格代码（前缀）")
    tag: AnyTag = Field(None, description="户或成员的标签")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class HouseholdCreateIn(_In):
    area_code: AreaCode = Field(description="所属村（12 位）或网格（15 位）代码")
    number: HouseholdNumber = ""
    address: Address = ""
    tags: list[HouseholdTag] = Field(default_factory=list, max_length=len(HOUSEHOLD_TAGS))
    note: Note = ""


class HouseholdUpdateIn(_Patch):
    area_code: AreaCode = None
    number: HouseholdNumber = None
    address: Address = None
    tags: list[HouseholdTag] = Field(None, max_length=len(HOUSEHOLD_TAGS))
    note: Note = None


class HouseholdOut(Schema):
    id: int
    area_code: str
    number: str
    address: str
    head_name: str
    member_count: int
    tags: list[str]
    note: str
    updated_at: datetime


# --- residents -------------------------------------------------------------------------
class ResidentFilters(_Filters):
    q: SearchText = Field("", description="姓名、拼音或首字母、身份证后 4 位")
    area_code: AreaPrefix = Field("", description="村或网格代码（前缀）")
    tag: ResidentTag = Field(None, description="人员标签")
    household: Id = Field(None, description="户编号")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class ResidentCreateIn(_In):
    household: Id = Field(description="户编号")
    name: Name
    id_number: IdNumber | None = None
    phone: Phone | None = None
    relation: RelationCode = Relation.OTHER.value
    tags: list[ResidentTag] = Field(default_factory=list, max_length=len(RESIDENT_TAGS))


class ResidentUpdateIn(_Patch):
    name: Name = None
    id_number: IdNumber | None = Field(None, description="null 表示清除")
    phone: Phone | None = Field(None, description="null 表示清除")
    relation: RelationCode = None
    status: StatusCode = None
    tags: list[ResidentTag] = Field(None, max_length=len(RESIDENT_TAGS))


class ResidentOut(Schema):
    id: int
    household: int
    area_code: str
    name: str
    sex: str
    birth_year: int | None
    relation: str
    tags: list[str]
    status: str
    id_number_masked: str
    phone_masked: str


class HouseholdDetailOut(HouseholdOut):
    members: list[ResidentOut]


class HouseholdPage(PageOut):
    items: list[HouseholdOut]


class ResidentPage(PageOut):
    items: list[ResidentOut]


class LookupIn(_In):
    id_number: IdNumber


class RevealIn(_In):
    reason: Reason = Field(description="查看原因（至少 4 个字），记入审计日志")


class RevealOut(Schema):
    id_number: str | None
    phone: str | None
