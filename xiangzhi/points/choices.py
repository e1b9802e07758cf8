from django.db import models


class SubjectKind(models.TextChoices):
    HOUSEHOLD = "household", "农户"
    PARTY_MEMBER = "party_member", "党员"
    CADRE = "cadre", "干部"


class EntryKind(models.TextChoices):
    AWARD = "award", "加分"
    DEDUCTION = "deduction", "扣分"
    REDEMPTION = "redemption", "兑换"
    REVERSAL = "reversal", "冲正"
    EXPIRY = "expiry", "过期清零"


class Feeds(models.TextChoices):
    NONE = "", "不计入红黑榜"
    HONOR = "honor", "计入红榜"
    WARNING = "warning", "计入黑榜"


class CapPeriod(models.TextChoices):
    MONTH = "month", "每月"
    QUARTER = "quarter", "每季度"
    YEAR = "year", "每年"


class AwardStatus(models.TextChoices):
    PROPOSED = "proposed", "待评议"
    REJECTED = "rejected", "未通过"
    PUBLICIZING = "publicizing", "公示中"
    OBJECTED = "objected", "有异议"
    POSTED = "posted", "已入账"
    CANCELLED = "cancelled", "已撤销"


class RedemptionStatus(models.TextChoices):
    DONE = "done", "已兑换"
    CANCELLED = "cancelled", "已撤销"


RULE_CATEGORIES = ["孝老爱亲", "环境卫生", "移风易俗", "志愿服务", "遵纪守法", "邻里和睦", "党员先锋", "产业发展", "其他"]
