"""积分制: a versioned rulebook, reviewed awards, an append-only ledger with a cached
balance, the 振风超市 shop with stock, and the 红黑榜. Ledger rules (DESIGN.md §4):
entries are never updated or deleted (database triggers refuse it), balances change only in
the same transaction as their entry under ``select_for_update``, and CHECK constraints keep
balances and stock ≥ 0."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from xiangzhi.core.scoping import RestrictedManager

from .choices import AwardStatus, CapPeriod, EntryKind, Feeds, RedemptionStatus, SubjectKind

USER = settings.AUTH_USER_MODEL


class Rulebook(models.Model):
    """One adopted version of a township's rules, or a village's additions to them."""

    area_code = models.CharField("适用区域", max_length=12)  # township (9) or village (12)
    version = models.PositiveIntegerField("版本")
    title = models.CharField("名称", max_length=100)
    adopted_on = models.DateField("通过日期")
    adopted_by = models.CharField("通过会议", max_length=100, default="村民代表大会")
    votes_for = models.PositiveIntegerField("赞成票")
    votes_total = models.PositiveIntegerField("应到人数")
    is_current = models.BooleanField("现行版本", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "积分规则版本"
        ordering = ["area_code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["area_code", "version"], name="rulebook_version_unique"),
            models.UniqueConstraint(fields=["area_code"], condition=Q(is_current=True), name="rulebook_one_current"),
            models.CheckConstraint(condition=Q(votes_for__lte=models.F("votes_total")), name="rulebook_votes"),
        ]

    def __str__(self):
        return f"{self.title}（第{self.version}版）"


class PointRule(models.Model):
    rulebook = models.ForeignKey(Rulebook, on_delete=models.PROTECT, related_name="rules")
    code = models.CharField("编号", max_length=20)
    name = models.CharField("事项", max_length=100)
    category = models.CharField("类别", max_length=20)
    points = models.IntegerField("分值")
    subject_kind = models.CharField("适用对象", max_length=14, choices=SubjectKind.choices)
    evidence_required = models.BooleanField("需要佐证", default=False)
    cap = models.PositiveIntegerField("每期上限（次）", null=True, blank=True)
    cap_period = models.CharField("上限周期", max_length=8, choices=CapPeriod.choices, default=CapPeriod.YEAR)
    feeds = models.CharField("红黑榜", max_length=8, choices=Feeds.choices, blank=True, default=Feeds.NONE)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "积分规则"
        ordering = ["rulebook", "code"]
        constraints = [
            models.UniqueConstraint(fields=["rulebook", "code"], name="rule_code_unique"),
            models.CheckConstraint(condition=~Q(points=0), name="rule_points_nonzero"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}（{self.points:+d}）"


class Account(models.Model):
    """A points account of one subject: a household, a party member or a cadre."""

    subject_kind = models.CharField(max_length=14, choices=SubjectKind.choices)
    household = models.OneToOneField("residents.Household", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="points_account")
    resident = models.ForeignKey("residents.Resident", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="points_accounts")
    cadre_user = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="points_accounts")
    name = models.CharField("名称", max_length=60)
    area_code = models.CharField(max_length=15)
    balance = models.IntegerField("余额", default=0)
    earned_total = models.IntegerField("累计获得", default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RestrictedManager()
    own_lookup = "household__members__user"

    class Meta:
        verbose_name = "积分账户"
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_nonnegative"),
            models.UniqueConstraint(fields=["subject_kind", "resident"], condition=Q(resident__isnull=False),
                                    name="account_resident_unique"),
            models.UniqueConstraint(fields=["subject_kind", "cadre_user"], condition=Q(cadre_user__isnull=False),
                                    name="account_cadre_unique"),
        ]
        indexes = [models.Index(fields=["area_code", "subject_kind", "balance"], name="account_area_kind_balance")]

    def __str__(self):
        return self.name


class LedgerEntry(models.Model):
    """Append-only. ``amount`` is signed; ``balance_after`` is the account's balance right
    after this entry. Corrections are reversal entries, never edits."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    area_code = models.CharField(max_length=15)
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    amount = models.IntegerField()
    balance_after = models.IntegerField()
    actor = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField("来源", max_length=40)  # "award:12", "redemption:7", "expiry:2026"
    note = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=80, unique=True)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    created_at = models.DateTimeField(db_index=True)

    objects = RestrictedManager()
    own_lookup = "account__household__members__user"

    class Meta:
        verbose_name = "积分流水"
        ordering = ["account", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="entry_balance_after_nonnegative"),
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero"),
        ]
        indexes = [
            models.Index(fields=["account", "id"], name="entry_account_id"),
            models.Index(fields=["area_code", "created_at", "kind"], name="entry_area_created_kind"),
        ]

    def __str__(self):
        return f"{self.account_id} {self.amount:+d}"


class Activity(models.Model):
    """A group activity (e.g. a village clean-up) for batch awards."""

    area_code = models.CharField(max_length=15)
    name = models.CharField("活动名称", max_length=100)
    held_on = models.DateField("活动日期")
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "积分活动"

    def __str__(self):
        return self.name


class Award(models.Model):
    """A proposed award or deduction; reviewed, publicised, then posted to the ledger."""

    rule = models.ForeignKey(PointRule, on_delete=models.PROTECT, related_name="awards")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="awards")
    area_code = models.CharField(max_length=15)
    points = models.IntegerField("分值")
    occurred_on = models.DateField("发生日期")
    reason = models.CharField("事由", max_length=500)
    evidence = models.FileField("佐证照片", upload_to="points/%Y/%m/", blank=True)
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.PROTECT, related_name="awards")
    status = models.CharField(max_length=12, choices=AwardStatus.choices, default=AwardStatus.PROPOSED)
    proposed_by = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    claimed = models.BooleanField("村民申报", default=False)
    reviewed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    publicity_until = models.DateTimeField("公示截止", null=True, blank=True)
    posted_entry = models.OneToOneField(LedgerEntry, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="award")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()
    own_lookup = "account__household__members__user"

    class Meta:
        verbose_name = "积分申报"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "account", "rule"], condition=Q(activity__isnull=False),
                                    name="award_activity_once"),
        ]
        indexes = [
            models.Index(fields=["area_code", "status", "publicity_until"], name="award_area_status"),
            models.Index(fields=["area_code", "status", "occurred_on"], name="award_area_status_day"),  # 红黑榜 drafts
            models.Index(fields=["account", "rule", "occurred_on"], name="award_account_rule"),
            # an account page's awards still in review or publicity: a seek per pending
            # status, not a walk through every award the account ever had
            models.Index(fields=["account", "status", "created_at"], name="award_account_status"),
        ]

    def __str__(self):
        return f"{self.account} {self.points:+d}"


class Objection(models.Model):
    """An objection during the publicity period; it becomes a case in the cases engine."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="objections")
    reason = models.TextField("异议理由", max_length=2000)
    raised_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raised_by_name = models.CharField(max_length=50, blank=True)
    case = models.OneToOneField("cases.Case", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="points_objection")
    upheld = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "公示异议"

    def __str__(self):
        return f"异议 {self.award_id}"


class Shop(models.Model):
    area_code = models.CharField("所属区域", max_length=12)
    name = models.CharField("超市名称", max_length=100)
    keeper = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="shops")
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "振风超市"

    def __str__(self):
        return self.name


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="products")
    name = models.CharField("商品", max_length=100)
    unit = models.CharField("单位", max_length=10, default="件")
    price = models.PositiveIntegerField("所需积分")
    stock = models.IntegerField("库存", default=0)
    low_stock = models.PositiveIntegerField("低库存提醒", default=5)
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "商品"
        ordering = ["shop", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="product_stock_nonnegative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="product_price_positive"),
        ]

    def __str__(self):
        return self.name


class StockMove(models.Model):
    """Stock in (+), redemptions (−) and cancellations (+): the product's stock history."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="moves")
    quantity = models.IntegerField()
    stock_after = models.IntegerField()
    reason = models.CharField(max_length=40)  # "stock_in", "redemption:7", "cancel:7"
    actor = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "库存变动"
        constraints = [models.CheckConstraint(condition=Q(stock_after__gte=0), name="stockmove_after_nonnegative")]

    def __str__(self):
        return f"{self.product_id} {self.quantity:+d}"


class Redemption(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="redemptions")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="redemptions")
    area_code = models.CharField(max_length=15)
    total = models.PositiveIntegerField("合计积分")
    status = models.CharField(max_length=10, choices=RedemptionStatus.choices, default=RedemptionStatus.DONE)
    idempotency_key = models.CharField(max_length=80, unique=True)
    request_hash = models.CharField(max_length=64)
    keeper = models.ForeignKey(USER, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedManager()
    own_lookup = "account__household__members__user"

    class Meta:
        verbose_name = "兑换记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["area_code", "created_at"], name="redemption_area_created")]

    def __str__(self):
        return f"兑换 {self.pk}"


class RedemptionItem(models.Model):
    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    price = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive")]

    def __str__(self):
        return f"{self.product_id}×{self.quantity}"


class RedBlackList(models.Model):
    """红黑榜 of one village, subject kind and period: draft → approved → published."""

    STATUS = [("draft", "草稿"), ("approved", "已审定"), ("published", "已发布")]
    PERIOD = [("month", "月度"), ("quarter", "季度")]

    area_code = models.CharField("村", max_length=12)
    subject_kind = models.CharField(max_length=14, choices=SubjectKind.choices, default=SubjectKind.HOUSEHOLD)
    period_kind = models.CharField(max_length=8, choices=PERIOD)
    period_start = models.DateField()
    period_label = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=STATUS, default="draft")
    publicity_until = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = "红黑榜"
        ordering = ["-period_start", "area_code"]
        constraints = [
            models.UniqueConstraint(fields=["area_code", "subject_kind", "period_kind", "period_start"],
                                    name="redblack_period_unique"),
        ]

    def __str__(self):
        return f"{self.period_label}红黑榜"


class ListEntry(models.Model):
    SIDE = [("honor", "红榜"), ("warning", "黑榜")]

    red_black_list = models.ForeignKey(RedBlackList, on_delete=models.CASCADE, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="list_entries")
    side = models.CharField(max_length=8, choices=SIDE)
    rank = models.PositiveSmallIntegerField(default=0)
    points = models.IntegerField(default=0)
    evidence = models.JSONField(default=list, blank=True)  # [{"rule": code, "name": ..., "award": id, "reason": ...}]
    expires_on = models.DateField(null=True, blank=True)
    removed = models.BooleanField(default=False)
    removed_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = "上榜记录"
        ordering = ["red_black_list", "side", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["red_black_list", "account", "side"], name="listentry_once")
        ]

    def __str__(self):
        return f"{self.account} {self.side}"


class Appeal(models.Model):
    STATUS = [("pending", "待处理"), ("upheld", "申诉成立"), ("dismissed", "申诉不成立")]

    entry = models.ForeignKey(ListEntry, on_delete=models.PROTECT, related_name="appeals")
    reason = models.TextField("申诉理由", max_length=2000)
    filed_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=STATUS, default="pending")
    decision = models.CharField("处理意见", max_length=1000, blank=True)
    decided_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "红黑榜申诉"

    def __str__(self):
        return f"申诉 {self.entry_id}"
