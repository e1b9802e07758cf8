"""API schemas of the points module (/api/v1/points). Inputs are bounded and enumerated
here, so junk is a 422 with a Chinese field message; business rules (balance, stock, caps,
retired rules, publicity periods) are the services' 400/409. Outputs carry no ID number or
phone; a villager's view of a 红黑榜 masks the given names on the warning list."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool

from xiangzhi.core.api import MAX_ID, PageOut, Text

from .choices import AwardStatus, SubjectKind

SubjectKindCode = Literal[tuple(SubjectKind.values)]  # type: ignore[valid-type]
AwardStatusCode = Literal[tuple(AwardStatus.values)]  # type: ignore[valid-type]
BoardStatusCode = Literal["draft", "approved", "published"]

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
AreaPrefix = Text(15, pattern=r"[0-9]{0,15}", message="应为区划代码（数字，最多 15 位）")
AreaCode = Text(15, min_length=9, pattern=r"[0-9]{9}([0-9]{3}([0-9]{3})?)?",
                message="应为 9 位乡镇、12 位村或 15 位网格代码")  # fmt: skip
SearchText = Text(50)
Reason = Text(500, min_length=1)
LongReason = Text(2000, min_length=4)
Note = Text(500)
PersonName = Text(50)
IdempotencyKey = Text(64, min_length=8, pattern=r"[A-Za-z0-9_.:-]{8,64}", message="应为 8–64 位字母、数字或 _.:-")

YEARS = (2000, 2100)


class _In(Schema):
    """Input: unknown fields are an error (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def _drop_null_defaults(schema: dict) -> None:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", 0) is None:
            del prop["default"]


class _Filters(Schema):
    """Query parameters: an omitted filter is absent, never ``null``."""

    model_config = ConfigDict(json_schema_extra=_drop_null_defaults)


# --- shared ------------------------------------------------------------------------------
class Ref(Schema):
    id: int
    name: str


# --- accounts and ledger -------------------------------------------------------------------
class AccountFilters(_Filters):
    subject_kind: SubjectKindCode = Field(None, description="household 农户 / party_member 党员 / cadre 干部")
    area_code: AreaPrefix = Field("", description="村或网格代码（前缀）")
    q: SearchText = Field("", description="户主或成员姓名（含拼音、首字母）、户号、身份证后 4 位，党员或干部姓名")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class AccountOut(Schema):
    id: int
    subject_kind: str
    subject_kind_label: str
    name: str
    area_code: str
    balance: int = Field(description="当前积分余额")
    earned_total: int = Field(description="累计获得积分（加分合计，不含兑换）")
    household: int | None = Field(description="农户账户对应的户编号")
    updated_at: datetime


class AccountPage(PageOut):
    items: list[AccountOut]


class AccountDetailOut(AccountOut):
    household_number: str = Field(description="户号（农户账户）")
    area_name: str = Field(description="所在村 · 网格")
    redeemed_total: int = Field(description="累计兑换积分（已撤销的不计）")
    entry_count: int = Field(description="流水笔数")


class LedgerFilters(_Filters):
    before: Id = Field(None, description="翻页：只取编号小于它的流水（上一页响应中的 next_before）")
    limit: int = Field(50, ge=1, le=200)


class EntryOut(Schema):
    id: int
    kind: str
    kind_label: str
    amount: int = Field(description="变动积分（正为增加，负为减少）")
    balance_after: int = Field(description="本笔之后的余额")
    source: str = Field(
        description="来源：award:<申报编号> / redemption:<兑换编号> / reversal:<流水编号> / expiry:<日期>"
    )
    note: str
    reverses: int | None = Field(description="冲正的原流水编号")
    actor: str | None = Field(description="经办人（村民本人查看时不显示）")
    created_at: datetime


class LedgerPage(Schema):
    account: int
    balance: int
    items: list[EntryOut] = Field(description="按时间倒序")
    next_before: int | None = Field(description="下一页的 before 参数；没有更多时为 null")


# --- rules -------------------------------------------------------------------------------
class RuleFilters(_Filters):
    area_code: AreaCode = Field(description="乡镇（9 位）、村（12 位）或网格（15 位）代码")
    subject_kind: SubjectKindCode = Field(None, description="只看某类对象适用的规则")


class RuleOut(Schema):
    id: int
    code: str
    name: str
    category: str
    points: int = Field(description="分值（负数为扣分）")
    subject_kind: str
    evidence_required: bool
    cap: int | None = Field(description="每期上限（次）")
    cap_period: str = Field(description="month / quarter / year")
    feeds: str = Field(description="honor 计入红榜 / warning 计入黑榜 / 空")
    rulebook: int
    rulebook_area_code: str
    rulebook_title: str
    rulebook_version: int
    adopted_on: date
    adopted_by: str
    votes: str = Field(description="赞成票/应到人数")


class RuleList(Schema):
    area_code: str
    items: list[RuleOut]


# --- awards ------------------------------------------------------------------------------
class AwardFilters(_Filters):
    status: AwardStatusCode = Field(None, description="proposed 待评议 / publicizing 公示中 / objected 有异议 / "
                                                      "posted 已入账 / rejected 未通过 / cancelled 已撤销")  # fmt: skip
    area_code: AreaPrefix = Field("", description="村或网格代码（前缀）")
    subject_kind: SubjectKindCode = Field(None)
    account: Id = Field(None, description="只看某个账户")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class AwardRuleOut(Schema):
    id: int
    code: str
    name: str
    category: str
    rulebook_version: int


class ObjectionOut(Schema):
    id: int
    award: int
    reason: str
    case_tracking_code: str = Field(description="异议转成的事项查询码")
    upheld: bool | None = Field(description="异议是否成立（未处理为 null）")
    created_at: datetime


class AwardOut(Schema):
    id: int
    account: Ref
    area_code: str
    rule: AwardRuleOut
    points: int
    occurred_on: date
    reason: str
    status: str
    status_label: str
    claimed: bool = Field(description="村民本人申报")
    has_evidence: bool
    activity: str = Field(description="批量加分的活动名称")
    proposed_by: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    publicity_until: datetime | None = Field(description="公示截止时间；此前本村任何人可提出异议")
    posted_entry: int | None = Field(description="入账的流水编号")
    created_at: datetime


class AwardDetailOut(AwardOut):
    objections: list[ObjectionOut]


class AwardPage(PageOut):
    items: list[AwardOut]


class AwardProposeIn(_In):
    account: Id = Field(description="积分账户编号")
    rule: Id = Field(description="引用的积分规则编号（须为现行版本）")
    occurred_on: date = Field(description="发生日期")
    reason: Reason = Field(description="事由")


class ReviewIn(_In):
    approve: StrictBool = Field(description="true 通过（进入公示）/ false 不通过")
    note: Note = Field("", description="评议意见；不通过时必填（至少 2 个字）")


class ObjectIn(_In):
    reason: LongReason = Field(description="异议理由（至少 4 个字）")
    name: PersonName = Field("", description="异议人姓名（默认为当前用户）")


# --- shop ----------------------------------------------------------------------------------
class CatalogueFilters(_Filters):
    area_code: AreaCode = Field(None, description="乡镇、村或网格代码：服务该区域的超市（村民可不填：本户所在村）")


class ProductOut(Schema):
    id: int
    name: str
    unit: str
    price: int = Field(description="所需积分")
    stock: int
    low_stock: bool = Field(description="库存不高于提醒线")


class ShopOut(Schema):
    id: int
    name: str
    area_code: str
    address: str
    products: list[ProductOut]


class Catalogue(Schema):
    items: list[ShopOut]


class ItemIn(_In):
    product: Id
    quantity: int = Field(ge=1, le=999, description="数量")


class RedemptionIn(_In):
    shop: Id = Field(description="超市编号")
    account: Id = Field(description="兑换的积分账户编号")
    items: list[ItemIn] = Field(min_length=1, max_length=20, description="商品与数量（同一商品可合并）")


class RedemptionItemOut(Schema):
    product: int
    name: str
    unit: str
    quantity: int
    price: int


class RedemptionOut(Schema):
    id: int
    shop: Ref
    account: Ref
    total: int = Field(description="合计扣除积分")
    status: str = Field(description="done 已兑换 / cancelled 已撤销")
    status_label: str
    balance_after: int | None = Field(description="兑换后余额（该笔流水之后）")
    keeper: str | None
    created_at: datetime
    cancelled_at: datetime | None
    items: list[RedemptionItemOut]


# --- 红黑榜 --------------------------------------------------------------------------------
class ListFilters(_Filters):
    area_code: AreaPrefix = Field("", description="村代码（前缀）")
    subject_kind: SubjectKindCode = Field(None)
    status: BoardStatusCode = Field(None, description="draft 草稿 / approved 已审定 / published 已发布")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class BoardOut(Schema):
    id: int
    area_code: str
    subject_kind: str
    period_kind: str = Field(description="month 月度 / quarter 季度")
    period_start: date
    period_label: str
    status: str
    status_label: str
    published_at: datetime | None
    publicity_until: datetime | None
    honor_count: int
    warning_count: int


class BoardPage(PageOut):
    items: list[BoardOut]


class EvidenceOut(Schema):
    rule: str
    name: str
    points: int
    date: str = Field(description="发生日期（YYYY-MM-DD；红榜可为空）")
    reason: str = Field(description="事由（村民视图不显示）")


class ListEntryOut(Schema):
    id: int
    side: str = Field(description="honor 红榜 / warning 黑榜")
    rank: int
    name: str = Field(description="上榜户或个人；村民视图中黑榜姓名脱敏（王**户）")
    account: int | None = Field(description="账户编号（村民视图只显示本户的）")
    points: int
    evidence: list[EvidenceOut]
    expires_on: date | None = Field(description="黑榜记录的失效日期（到期自动恢复）")
    removed: bool
    removed_reason: str


class BoardDetailOut(BoardOut):
    view: Literal["staff", "villager"]
    entries: list[ListEntryOut]
