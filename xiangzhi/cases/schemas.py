"""API schemas of the case engine. Inputs are bounded and enumerated here so that junk is a
422 with a Chinese field message; business rules (the four fixes, due dates, the workflow
table) are the services' 400/409. Outputs never carry a plaintext phone: only
``contact_phone_masked``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field, StrictBool

from xiangzhi.core import periods
from xiangzhi.core.api import MAX_ID, PageOut, Text

from .choices import Channel, Kind, Level, MediationResult, MeetingKind, PartyRole, Satisfaction, Status, Supervision

KindCode = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
ChannelCode = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
LevelCode = Literal[tuple(Level.values)]  # type: ignore[valid-type]
StatusFilter = Literal[tuple([*Status.values, "open", "overdue"])]  # type: ignore[valid-type]
MeetingKindCode = Literal[tuple(MeetingKind.values)]  # type: ignore[valid-type]
ResultCode = Literal[tuple(MediationResult.values)]  # type: ignore[valid-type]
SatisfactionCode = Literal[tuple(Satisfaction.values)]  # type: ignore[valid-type]
PartyRoleCode = Literal[tuple(PartyRole.values)]  # type: ignore[valid-type]
SupervisionCode = Literal[tuple(Supervision.values)]  # type: ignore[valid-type]

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
AreaCode = Text(15, pattern=r"[0-9]{12}([0-9]{3})?", message="应为 12 位村代码或 15 位网格代码")
AreaPrefix = Text(15, pattern=r"[0-9]{0,15}", message="应为区划代码（数字，最多 15 位）")
Phone = Text(20, min_length=5, pattern=r"[0-9+() -]{5,20}", message="电话号码格式不正确")
Title = Text(100, min_length=1)
LongText = Text(5000)
Note = Text(2000)
Reason = Text(2000, min_length=2)  # the services want at least 2 characters
ShortText = Text(100)
PersonName = Text(50)
PartyName = Text(100, min_length=1)
SearchText = Text(50)

YEARS = (2000, 2100)


def _aware(value: datetime) -> datetime:
    """A time without a zone is Beijing time."""
    return value.replace(tzinfo=periods.TZ) if value.tzinfo is None else value


When = Annotated[datetime, AfterValidator(_aware)]
Day = date


def dates_out_of_range(payload) -> dict[str, str]:
    """Dates outside 2000–2100 (field → Chinese message). Checked by the handlers as a 400
    business rule — JSON Schema cannot bound a date, so the schema stays honest."""
    errors = {}
    for name in type(payload).model_fields:
        value = getattr(payload, name, None)
        if isinstance(value, date) and not YEARS[0] <= value.year <= YEARS[1]:
            errors[name] = f"日期应在 {YEARS[0]} 年至 {YEARS[1]} 年之间"
    return errors


class _In(Schema):
    """Input: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def _drop_null_defaults(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


# --- list ------------------------------------------------------------------------------
class CaseFiltersIn(Schema):
    """Query parameters: an omitted filter is absent, never ``null``."""

    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)

    kind: KindCode = Field(None, description="类型：petition 信访 / dispute 矛盾纠纷 / need 急难愁盼")
    level: LevelCode = Field(None, description="办理层级：grid / village / township")
    status: StatusFilter = Field(None, description="状态；open = 未办结，overdue = 已超期")
    category: Id = Field(None, description="分类编号（含其子分类）")
    area_code: AreaPrefix = Field("", description="村或网格代码（前缀）")
    lead: Id = Field(None, description="包案领导（用户编号）")
    handler: Id = Field(None, description="承办人（用户编号）")
    received_from: Day = Field(None, description="收到日期起（含）")
    received_to: Day = Field(None, description="收到日期止（含）")
    q: SearchText = Field("", description="查询码、标题关键字或联系人姓名")
    mine: bool = Field(False, description="只看我承办、我包案或我为第一责任人的事项")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class UserRef(Schema):
    id: int
    name: str


class CaseOut(Schema):
    id: int
    tracking_code: str
    area_code: str
    kind: str
    kind_label: str
    channel: str
    category: int | None
    category_name: str
    title: str
    status: str
    status_label: str
    level: str
    supervision: str
    warning: str = Field(description="red 已超期 / yellow 预警 / 空")
    received_at: datetime
    accept_due_at: datetime | None
    level_due_at: datetime | None
    due_at: datetime | None
    closed_at: datetime | None
    lead: UserRef | None
    handler: UserRef | None
    first_responsible: UserRef | None


class CasePage(PageOut):
    items: list[CaseOut]


# --- detail ----------------------------------------------------------------------------
class PartyOut(Schema):
    id: int
    name: str
    role: str
    resident: int | None
    note: str


class EventOut(Schema):
    id: int
    at: datetime
    action: str
    label: str
    actor: str = Field(description="办理人（本事项的工作人员看到姓名，当事人只看到岗位）")
    from_status: str
    to_status: str
    from_level: str
    to_level: str
    note: str
    public: bool


class MeetingOut(Schema):
    id: int
    kind: str
    held_at: datetime
    place: str
    participants: str
    minutes: str


class MediationOut(Schema):
    id: int
    held_at: datetime
    place: str
    result: str
    mediators: list[UserRef]
    mediator_names: str
    facts: str
    terms: str
    agreement_no: str


class FollowUpOut(Schema):
    id: int
    at: datetime
    satisfaction: str
    note: str


class SkipLevelOut(Schema):
    id: int
    occurred_on: date
    destination: str
    note: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: datetime


class CaseDetailOut(CaseOut):
    view: Literal["staff", "party"] = Field(description="staff 工作人员视图 / party 当事人视图（不含内部记录）")
    description: str
    contact_name: str
    contact_phone_masked: str
    household: int | None
    accepted_at: datetime | None
    accepted_level: str
    responsibility: str = Field(description="定责任")
    plan: str = Field(description="定方案")
    extension_days: int
    escalation_count: int
    reopen_count: int
    resolution: str
    satisfaction: str
    skip_level: bool
    related_case: int | None
    allowed_actions: list[str] = Field(description="当前状态下工作流允许的动作（不含岗位判断）")
    parties: list[PartyOut]
    timeline: list[EventOut]
    meetings: list[MeetingOut]
    mediations: list[MediationOut]
    follow_ups: list[FollowUpOut]
    skip_levels: list[SkipLevelOut]
    attachments: list[AttachmentOut]


class CandidateOut(Schema):
    id: int
    name: str
    role: str
    area_code: str


# --- create ----------------------------------------------------------------------------
class PartyIn(_In):
    name: PartyName
    role: PartyRoleCode = PartyRole.APPLICANT.value
    resident: Id | None = Field(None, description="登记在册的居民编号（可不填：外来人员）")
    note: Text(200) = ""


class CaseCreateIn(_In):
    kind: KindCode
    channel: ChannelCode
    area_code: AreaCode = Field(description="事项发生地：村（12 位）或网格（15 位）代码（属地）")
    title: Title
    description: Text(5000, min_length=1)
    category: Id | None = None
    household: Id | None = Field(None, description="关联的户")
    contact_name: PersonName = ""
    contact_phone: Phone | None = Field(None, description="联系电话（后 4 位用于群众查询进度）")
    parties: list[PartyIn] = Field(default_factory=list, max_length=20)
    received_at: When | None = Field(None, description="收到时间（默认现在）")
    related_case: Id | None = Field(None, description="关联的前次事项（重复访）")


# --- actions ---------------------------------------------------------------------------
class NoteIn(_In):
    note: Note = ""


class ReasonIn(_In):
    reason: Reason


class RequiredNoteIn(_In):
    note: Reason


class TransferIn(_In):
    to_body: Text(100, min_length=1) = Field(description="转办单位")
    reason: Reason


class AssignIn(_In):
    """包案与四定：包案领导、定专人、定责任、定方案、定时限。"""

    lead: Id = Field(description="包案领导（用户编号）")
    handler: Id = Field(description="承办人（用户编号）")
    responsibility: Text(2000, min_length=1) = Field(description="定责任")
    plan: Text(5000, min_length=1) = Field(description="定方案")
    due_at: When = Field(description="定时限：办结期限")


class CloseIn(_In):
    resolution: Text(5000, min_length=2) = Field(description="办理结果")


class ExtensionIn(_In):
    days: int = Field(ge=1, le=30, description="延期天数（信访事项最多 30 天，只能延期一次）")
    reason: Reason


class ApproveExtensionIn(_In):
    approve: StrictBool
    note: Note = ""


class SuperviseIn(_In):
    mark: SupervisionCode = Field(description="normal 正常 / yellow 黄牌督办 / red 红牌督办")
    note: Note = ""


# --- records ---------------------------------------------------------------------------
class MeetingIn(_In):
    kind: MeetingKindCode = Field(description="topic 专题会 / on_site 现场会 / group 小组会 / secretary_talk 书记约谈")
    held_at: When
    place: Text(100, min_length=1)
    participants: Text(2000, min_length=1)
    minutes: Text(10000) = ""


class MediationIn(_In):
    held_at: When
    result: ResultCode
    mediators: list[Id] = Field(default_factory=list, max_length=10, description="调解员（用户编号）")
    mediator_names: Text(200) = Field("", description="调解员姓名（非系统用户时填写）")
    place: ShortText = ""
    facts: LongText = ""
    terms: LongText = Field("", description="协议内容（调解成功时必填）")


class FollowUpIn(_In):
    satisfaction: SatisfactionCode
    note: Note = ""
    reopen: StrictBool = Field(False, description="不满意时重新办理")


class SkipLevelIn(_In):
    occurred_on: Day
    destination: Text(100, min_length=1) = Field(description="去向：县信访局、市信访局、省信访局、国家信访局……")
    note: Note = ""
