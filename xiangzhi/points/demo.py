"""Demo 积分制 of 白塔畈镇: the “振风超市”积分制 and the 红黑榜 as the articles describe them.

``load_points_demo()`` is called at the end of ``manage.py load_demo`` (after the regions,
grids, demo households, demo accounts and the other modules' demos). It is idempotent — a
second run finds the township rulebook and writes nothing — and deterministic: the same
seed on the same day gives the same data.

What it makes:

* the township rulebook 《白塔畈镇“振风超市”积分制管理办法》 adopted at the 村民代表大会
  (86 of 92 votes) with rules in 孝老爱亲 / 环境卫生 / 移风易俗 / 志愿服务 / 遵纪守法 /
  邻里和睦 / 党员先锋 / 干部作风, warning rules included, and 刘冲村's additions (产业互助,
  巡河护河, 电鱼 as a warning rule) adopted by its own 村民代表大会 (41 of 45);
* points accounts for every demo household of the township, for every resident tagged
  ``party_member`` (党员积分) and for the demo cadres (干部积分管理);
* a year of awards, month by month until a week ago: monthly 庭院评比 and 垃圾分类, village
  clean-up days (one ``Activity`` per village and month), volunteering, 孝老爱亲, a few
  warning deductions; party members' 主题党日 and volunteering; cadres' visits and cases
  handled on time. Every one of them reviewed by the village (or the township cadre in
  charge), publicised for 3 days and posted;
* 刘冲村振风超市 with its keeper ``liuchong_keeper`` (汪春华, role shop_keeper, password
  ``Demo@2026xz``) and 白塔畈镇振风超市 at the township's service centre, with products,
  monthly stock-ins and a few hundred redemptions;
* live queues: proposals waiting for review and awards in their publicity period in 刘冲村
  and 大岗村 (one a claim of liuchong_villager's household), a redemption made today, one
  cancelled;
* the monthly 红黑榜 of 刘冲村 for the last six months (published, with evidence), a draft
  for this month, a party members' list, a decided appeal and one pending.

History is written with bulk inserts (seconds, not minutes) but keeps the ledger invariant
exactly as ``ledger.post`` would: entries in time order, each with the running
``balance_after``, a deduction never below zero, balances = Σ entries, stock moves with
``stock_after``. The live part goes through the services (and is audited); the backfill
writes one ``points.demo_load`` audit event.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import CharField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import demo as core_demo
from xiangzhi.core import periods

from . import services
from . import shop as shop_services
from .choices import AwardStatus, EntryKind, SubjectKind
from .models import (
    Account,
    Activity,
    Award,
    LedgerEntry,
    PointRule,
    Product,
    Redemption,
    RedemptionItem,
    Rulebook,
    StockMove,
)

SEED = core_demo.DEMO_SEED
TOWNSHIP = core_demo.BAITAFAN
LIUCHONG = core_demo.LIUCHONG
DAGANG = core_demo.DAGANG
TZ = periods.TZ

TOWNSHIP_TITLE = "白塔畈镇“振风超市”积分制管理办法"
LIUCHONG_TITLE = "刘冲村积分制补充规定"
KEEPER = ("liuchong_keeper", "汪春华", "shop_keeper", LIUCHONG)
HISTORY_LAG_DAYS = 7  # backfilled awards occurred at least this long ago (all posted by now)
LIST_MONTHS = 6

TOWNSHIP_RULES = [
    {"code": "XL01", "name": "孝敬赡养老人、照顾父母事迹突出", "category": "孝老爱亲", "points": 5, "cap": 1,
     "cap_period": "month", "feeds": "honor"},
    {"code": "XL02", "name": "长期照料重病、残疾家庭成员", "category": "孝老爱亲", "points": 5, "cap": 1, "cap_period": "month"},
    {"code": "XL03", "name": "评为“好媳妇”“好婆婆”“最美家庭”", "category": "孝老爱亲", "points": 10, "cap": 1,
     "cap_period": "year", "feeds": "honor", "evidence_required": True},
    {"code": "XL09", "name": "不赡养老人或虐待家庭成员（经查实）", "category": "孝老爱亲", "points": -10, "feeds": "warning"},
    {"code": "HJ01", "name": "庭院整洁、门前“三包”落实（月度评比合格）", "category": "环境卫生", "points": 2, "cap": 1,
     "cap_period": "month"},
    {"code": "HJ02", "name": "参加村庄环境整治义务劳动", "category": "环境卫生", "points": 3, "cap": 4, "cap_period": "month"},
    {"code": "HJ03", "name": "生活垃圾分类投放到位", "category": "环境卫生", "points": 1, "cap": 1, "cap_period": "month"},
    {"code": "HJ08", "name": "露天焚烧秸秆、垃圾", "category": "环境卫生", "points": -5, "feeds": "warning"},
    {"code": "HJ09", "name": "乱倒垃圾、乱堆乱放，经劝导不改", "category": "环境卫生", "points": -3, "feeds": "warning"},
    {"code": "YF01", "name": "婚事新办、丧事简办，签订承诺并履行", "category": "移风易俗", "points": 5, "cap": 1,
     "cap_period": "year", "feeds": "honor"},
    {"code": "YF02", "name": "抵制高价彩礼、人情攀比", "category": "移风易俗", "points": 3, "cap": 1, "cap_period": "quarter"},
    {"code": "YF09", "name": "大操大办、索要高价彩礼", "category": "移风易俗", "points": -10, "feeds": "warning"},
    {"code": "ZY01", "name": "参加志愿服务活动（每次）", "category": "志愿服务", "points": 2, "cap": 4, "cap_period": "month"},
    {"code": "ZY02", "name": "参与防汛抗旱、森林防火等应急服务", "category": "志愿服务", "points": 5, "cap": 2,
     "cap_period": "month", "evidence_required": True},
    {"code": "ZY03", "name": "见义勇为、救人于危难", "category": "志愿服务", "points": 20, "feeds": "honor",
     "evidence_required": True},
    {"code": "ZF01", "name": "按时缴纳城乡居民医保、养老保险", "category": "遵纪守法", "points": 2, "cap": 1, "cap_period": "year"},
    {"code": "ZF02", "name": "主动反映问题、协助化解矛盾纠纷", "category": "遵纪守法", "points": 2, "cap": 2, "cap_period": "month"},
    {"code": "ZF08", "name": "参与赌博、封建迷信活动（经查实）", "category": "遵纪守法", "points": -10, "feeds": "warning"},
    {"code": "ZF09", "name": "违法违规建房、私搭乱建", "category": "遵纪守法", "points": -10, "feeds": "warning"},
    {"code": "LL01", "name": "邻里互帮互助、帮扶困难群众", "category": "邻里和睦", "points": 3, "cap": 2, "cap_period": "month"},
    {"code": "LL02", "name": "主动调解邻里纠纷", "category": "邻里和睦", "points": 3, "cap": 2, "cap_period": "month",
     "feeds": "honor"},
    {"code": "LL09", "name": "恶意挑起邻里纠纷、无理缠访闹访", "category": "邻里和睦", "points": -5, "feeds": "warning"},
    {"code": "DY01", "name": "按时参加主题党日和组织生活", "category": "党员先锋", "points": 2, "subject_kind": "party_member",
     "cap": 1, "cap_period": "month"},
    {"code": "DY02", "name": "党员带头参加志愿服务", "category": "党员先锋", "points": 3, "subject_kind": "party_member",
     "cap": 2, "cap_period": "month", "feeds": "honor"},
    {"code": "DY03", "name": "联系帮扶困难户（每月走访）", "category": "党员先锋", "points": 3, "subject_kind": "party_member",
     "cap": 1, "cap_period": "month"},
    {"code": "DY09", "name": "无故不参加组织生活", "category": "党员先锋", "points": -5, "subject_kind": "party_member",
     "feeds": "warning"},
    {"code": "GB01", "name": "入户走访、现场办公（每次）", "category": "干部作风", "points": 1, "subject_kind": "cadre", "cap": 20,
     "cap_period": "month"},
    {"code": "GB02", "name": "群众诉求按期办结", "category": "干部作风", "points": 2, "subject_kind": "cadre", "cap": 10,
     "cap_period": "month"},
    {"code": "GB03", "name": "矛盾纠纷一次化解", "category": "干部作风", "points": 3, "subject_kind": "cadre", "cap": 5,
     "cap_period": "month", "feeds": "honor"},
    {"code": "GB09", "name": "群众诉求超期未办结", "category": "干部作风", "points": -2, "subject_kind": "cadre",
     "feeds": "warning"},
]  # fmt: skip
LIUCHONG_RULES = [
    {"code": "LC01", "name": "参与茶叶、板栗产业互助组生产", "category": "产业发展", "points": 3, "cap": 2, "cap_period": "month"},
    {"code": "LC02", "name": "“河长制”义务巡河护河", "category": "环境卫生", "points": 2, "cap": 4, "cap_period": "month"},
    {"code": "LC09", "name": "在河道电鱼、炸鱼、毒鱼", "category": "遵纪守法", "points": -10, "feeds": "warning"},
]  # fmt: skip

# Per household and month: (rule, probability, most times). Deductions are rare.
HOUSEHOLD_PLAN = [
    ("HJ01", 0.35, 1), ("HJ03", 0.22, 1), ("ZY01", 0.12, 2), ("LL01", 0.05, 1), ("ZF02", 0.02, 1),
    ("XL01", 0.03, 1), ("XL02", 0.012, 1), ("LL02", 0.012, 1), ("YF02", 0.01, 1), ("YF01", 0.003, 1),
    ("HJ09", 0.012, 1), ("HJ08", 0.003, 1), ("LL09", 0.002, 1), ("ZF09", 0.001, 1), ("ZF08", 0.001, 1),
    ("YF09", 0.001, 1), ("XL09", 0.0005, 1),
]  # fmt: skip
LIUCHONG_PLAN = [("LC01", 0.08, 1), ("LC02", 0.08, 2), ("LC09", 0.002, 1)]
CLEANUP_SHARE = 0.18  # households at the monthly clean-up day (HJ02, one Activity per village)
ZF01_MONTHS = (1, 2, 3)  # insurance paid at the start of the year
ZF01_P = 0.3
PARTY_PLAN = [("DY01", 0.8, 1), ("DY02", 0.3, 1), ("DY03", 0.25, 1), ("DY09", 0.03, 1)]
CADRE_PLAN = [("GB01", 1.0, (3, 10)), ("GB02", 0.9, (1, 4)), ("GB03", 0.3, (1, 2)), ("GB09", 0.08, (1, 1))]

REASONS = {
    "XL01": [
        "常年照顾年迈的父母，端汤喂药、嘘寒问暖",
        "每周陪独居的母亲去镇卫生院复查",
        "把瘫痪在床的公公照顾得干干净净",
    ],
    "XL02": ["悉心照料患病多年的妻子", "长期照顾残疾的弟弟，从不嫌弃"],
    "XL09": ["经村调委会查实，拒不支付老人赡养费"],
    "HJ01": ["月度庭院评比合格，房前屋后干净整洁", "门前“三包”落实，院内物品摆放整齐"],
    "HJ02": ["参加村庄清洁日，清理沟渠垃圾", "参加清洁日，清运路边杂物"],
    "HJ03": ["垃圾分类投放到位，网格员检查合格"],
    "HJ08": ["在田埂上露天焚烧秸秆，经劝阻后扑灭"],
    "HJ09": ["多次在屋后河边倾倒生活垃圾，经劝导仍未改正", "门前长期乱堆建筑垃圾，影响通行"],
    "YF01": ["儿子婚礼不收份子钱、不大摆宴席", "父亲丧事从简，未搞吹打"],
    "YF02": ["女儿出嫁不要高价彩礼", "带头不随人情份子"],
    "YF09": ["儿子婚礼摆酒四十余桌，索要高额彩礼"],
    "ZY01": ["参加“学雷锋”志愿服务，为留守老人打扫卫生", "参加防疫、禁毒宣传志愿服务", "帮助村里整理农户档案"],
    "ZF01": ["按时缴纳城乡居民医保和养老保险"],
    "ZF02": ["及时向网格员反映危桥隐患", "协助村里调解山林界址纠纷"],
    "ZF08": ["参与聚众赌博，经派出所查处"],
    "ZF09": ["未经审批在承包地上私搭棚房"],
    "LL01": ["帮邻居抢收稻谷", "雨天帮独居老人修补屋顶", "主动借钱帮邻居渡过难关"],
    "LL02": ["主动劝和两户邻居因排水沟引发的争执"],
    "LL09": ["因宅基地问题多次到邻居家门口吵闹"],
    "LC01": ["参加茶叶互助组采茶、制茶", "参加板栗互助组修枝施肥"],
    "LC02": ["义务巡河，清理河道漂浮物", "巡河时劝阻外村人电鱼"],
    "LC09": ["在刘冲河电鱼，被护河队员当场制止"],
    "DY01": ["按时参加主题党日活动"],
    "DY02": ["带头参加村庄清洁日", "带头参加防汛值守"],
    "DY03": ["走访联系的困难户，帮助申请临时救助"],
    "DY09": ["连续两次无故不参加组织生活"],
    "GB01": ["入户走访，了解群众生产生活困难", "到田间地头现场办公"],
    "GB02": ["群众反映的用水问题按期办结", "低保申请材料按期审核上报"],
    "GB03": ["一次化解邻里宅基地纠纷"],
    "GB09": ["群众诉求超过办理期限未办结"],
}

SHOPS = {
    "village": ("刘冲村振风超市", LIUCHONG, "刘冲村党群服务中心一楼"),
    "township": ("白塔畈镇振风超市", TOWNSHIP, "白塔畈镇便民服务中心"),
}
PRODUCTS = {  # name, unit, points, low-stock line, stock-in size
    "village": [
        ("食盐", "袋", 2, 10, 60), ("香皂", "块", 4, 10, 40), ("毛巾", "条", 5, 10, 40), ("牙膏", "支", 6, 10, 40),
        ("酱油", "瓶", 6, 8, 30), ("洗洁精", "瓶", 8, 8, 30), ("洗衣粉", "袋", 10, 8, 30), ("卷纸", "提", 12, 6, 24),
        ("大米（10斤）", "袋", 40, 5, 15), ("食用油（5升）", "桶", 50, 4, 12), ("保温杯", "个", 30, 3, 10),
    ],
    "township": [
        ("挂面", "把", 5, 10, 40), ("洗衣液", "瓶", 15, 8, 30), ("手电筒", "个", 20, 4, 12), ("毛巾被", "条", 25, 4, 12),
        ("雨靴", "双", 35, 4, 12), ("书包", "个", 40, 4, 12), ("化肥（40斤）", "袋", 60, 4, 15),
        ("农用喷雾器", "台", 120, 2, 6), ("电风扇", "台", 150, 2, 6), ("电饭煲", "台", 200, 2, 5),
    ],
}  # fmt: skip
REDEMPTION_DAYS = {"village": 3, "township": 4}  # a counter day every N days


# --- people ---------------------------------------------------------------------------------
def _users() -> dict:
    from xiangzhi.accounts.models import User
    from xiangzhi.accounts.services import assignment_add, user_create
    from xiangzhi.org.models import Assignment

    username, full_name, role, area = KEEPER
    keeper = User.objects.filter(username=username).first()
    if keeper is None:
        keeper = user_create(actor=None, username=username, password=core_demo.DEMO_PASSWORD, full_name=full_name,
                             area_code=area)  # fmt: skip
    if not Assignment.objects.filter(user=keeper, area_code=area, role=role).exists():
        assignment_add(actor=None, user=keeper, area_code=area, role=role)
    wanted = ["baitafan_admin", "baitafan_shuji", "baitafan_cadre1", "baitafan_cadre2", "liuchong_secretary",
              "dagang_secretary", "liuchong_grid1", "liuchong_villager", username]  # fmt: skip
    return {u.username: u for u in User.objects.filter(username__in=wanted)}


@dataclass
class Subject:
    account: Account
    village: str
    kind: str
    household_id: int | None = None
    boost: float = 1.0  # liuchong_villager's household takes part more often
    balance: int = 0
    earned: int = 0


@dataclass
class Plan:
    """Everything the backfill writes, in memory first."""

    awards: list = field(default_factory=list)  # (posted_at, Award, Subject)
    redemptions: list = field(default_factory=list)
    activities: dict = field(default_factory=dict)


def _accounts(villages: list[str], users: dict) -> tuple[dict, list[Subject], list[Subject], list[Subject]]:
    """Accounts of the demo households, party members and cadres (created when missing)."""
    from xiangzhi.residents.models import Household, Resident

    households = list(
        Household.objects.filter(village_code__in=villages, note=core_demo.DEMO_NOTE)
        .order_by("village_code", "id")
        .values("id", "area_code", "village_code", "head_name")
    )
    have = set(Account.objects.filter(household_id__in=[h["id"] for h in households]).values_list("household_id",
                                                                                                   flat=True))  # fmt: skip
    Account.objects.bulk_create(
        [Account(subject_kind=SubjectKind.HOUSEHOLD, household_id=h["id"], name=f"{h['head_name'] or '未设户主'}户",
                 area_code=h["area_code"]) for h in households if h["id"] not in have],
        batch_size=500,
    )  # fmt: skip
    by_household = {a.household_id: a for a in Account.objects.filter(household_id__in=[h["id"] for h in households])}
    villager = (
        Resident.objects.filter(user__username="liuchong_villager").values_list("household_id", flat=True).first()
    )
    homes = []
    for h in households:
        acc = by_household[h["id"]]
        homes.append(Subject(acc, h["village_code"], SubjectKind.HOUSEHOLD, h["id"], 2.2 if h["id"] == villager else 1,
                             acc.balance, acc.earned_total))  # fmt: skip
    members = list(
        Resident.objects.filter(household__village_code__in=villages, household__note=core_demo.DEMO_NOTE,
                                tags__contains=",party_member,", status="active")
        .order_by("id").values("id", "name", "area_code")
    )  # fmt: skip
    have = set(Account.objects.filter(subject_kind=SubjectKind.PARTY_MEMBER, resident_id__in=[m["id"] for m in members])
               .values_list("resident_id", flat=True))  # fmt: skip
    Account.objects.bulk_create(
        [Account(subject_kind=SubjectKind.PARTY_MEMBER, resident_id=m["id"], name=m["name"], area_code=m["area_code"])
         for m in members if m["id"] not in have],
        batch_size=500,
    )  # fmt: skip
    party = [Subject(a, a.area_code[:12], SubjectKind.PARTY_MEMBER, balance=a.balance, earned=a.earned_total)
             for a in Account.objects.filter(subject_kind=SubjectKind.PARTY_MEMBER,
                                             resident_id__in=[m["id"] for m in members]).order_by("id")]  # fmt: skip
    from .accounts import account_for_cadre

    cadres = []
    for username, area in (("liuchong_secretary", LIUCHONG), ("dagang_secretary", DAGANG),
                           ("liuchong_grid1", core_demo.LIUCHONG_GRID1), ("baitafan_cadre1", TOWNSHIP),
                           ("baitafan_cadre2", TOWNSHIP)):  # fmt: skip
        if username in users:
            a = account_for_cadre(users[username], area)
            cadres.append(Subject(a, area[:12], SubjectKind.CADRE, balance=a.balance, earned=a.earned_total))
    return by_household, homes, party, cadres


# --- the backfill ---------------------------------------------------------------------------------
class _Builder:
    def __init__(self, *, rng: random.Random, now: datetime, start: date, until: date, rules: dict, users: dict,
                 villages: list[str]):  # fmt: skip
        self.rng, self.now, self.start, self.until = rng, now, start, until
        self.rules, self.users, self.villages = rules, users, villages
        self.plan = Plan()
        self.used: dict = defaultdict(int)  # (account, rule, window) → count

    def _people(self, village: str, area: str, kind: str):
        u = self.users
        admin = u.get("baitafan_admin")
        if kind == SubjectKind.CADRE:
            return u.get("baitafan_shuji") or admin, u.get("baitafan_shuji") or admin
        if village == LIUCHONG:
            reviewer = u.get("liuchong_secretary") or admin
            proposer = u.get("liuchong_grid1") if area.startswith(core_demo.LIUCHONG_GRID1) else reviewer
            return proposer or reviewer, reviewer
        if village == DAGANG:
            reviewer = u.get("dagang_secretary") or admin
            return reviewer, reviewer
        i = self.villages.index(village) if village in self.villages else 0
        reviewer = u.get("baitafan_cadre1" if i % 2 == 0 else "baitafan_cadre2") or admin
        return reviewer, reviewer

    def _window(self, rule: PointRule, day: date) -> tuple:
        if rule.cap_period == "month":
            return day.year, day.month
        if rule.cap_period == "quarter":
            return day.year, (day.month - 1) // 3
        return (day.year,)

    def award(self, s: Subject, code: str, day: date, *, activity=None, claimed=False) -> bool:
        rule = self.rules.get((code, s.village)) or self.rules.get((code, ""))
        if rule is None or day > self.until or day < self.start:
            return False
        key = (s.account.pk, code, self._window(rule, day))
        if rule.cap and self.used[key] >= rule.cap:
            return False
        self.used[key] += 1
        rng = self.rng
        proposer, reviewer = self._people(s.village, s.account.area_code, s.kind)
        if claimed:
            proposer = self.users.get("liuchong_villager") or proposer
        proposed_at = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=TZ)
        reviewed_at = proposed_at + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 5))
        publicity_until = reviewed_at + timedelta(days=services.PUBLICITY_DAYS)
        posted_at = publicity_until + timedelta(minutes=rng.randint(1, 240))
        award = Award(
            rule=rule, account=s.account, area_code=s.account.area_code, points=rule.points, occurred_on=day,
            reason=rng.choice(REASONS.get(code, [rule.name])), activity=activity, status=AwardStatus.POSTED,
            proposed_by=proposer, claimed=claimed, reviewed_by=reviewer, reviewed_at=reviewed_at,
            review_note="经评议小组核实，情况属实" if rule.points > 0 else "经核实，事实清楚，予以扣分",
            publicity_until=publicity_until,
        )  # fmt: skip
        self.plan.awards.append((posted_at, award, s))
        return True

    def _day(self, year: int, month: int, lo: int = 1, hi: int = 28) -> date:
        return date(year, month, self.rng.randint(lo, hi))

    def months(self):
        y, m = self.start.year, self.start.month
        while date(y, m, 1) <= self.until:
            yield y, m
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)

    def households(self, homes: list[Subject]):
        rng = self.rng
        for y, m in self.months():
            cleanup: dict[str, date] = {}
            for s in homes:
                for code, p, most in HOUSEHOLD_PLAN + (LIUCHONG_PLAN if s.village == LIUCHONG else []):
                    if self.rules[(code, s.village if code.startswith("LC") else "")].points < 0:
                        chance = 0 if s.boost > 1 else p
                    else:
                        chance = min(0.95, p * s.boost)
                    for _ in range(most):
                        if rng.random() < chance:
                            self.award(s, code, self._day(y, m))
                if m in ZF01_MONTHS and rng.random() < ZF01_P * s.boost:
                    self.award(s, "ZF01", self._day(y, m))
                if rng.random() < min(0.9, CLEANUP_SHARE * s.boost):
                    day = cleanup.setdefault(s.village, self._day(y, m, 5, 25))
                    if day <= self.until:
                        self.award(s, "HJ02", day, activity=self._activity(s.village, day))
            # the villager claims a volunteering award himself now and then
            mine = [s for s in homes if s.boost > 1]
            for s in mine:
                if rng.random() < 0.4:
                    self.award(s, "ZY01", self._day(y, m), claimed=True)

    def _activity(self, village: str, day: date) -> Activity:
        key = (village, day)
        if key not in self.plan.activities:
            self.plan.activities[key] = Activity(area_code=village, name=f"{day.month}月村庄清洁日", held_on=day,
                                                 created_by=self._people(village, village, "")[1])  # fmt: skip
        return self.plan.activities[key]

    def party(self, members: list[Subject]):
        for y, m in self.months():
            for s in members:
                for code, p, most in PARTY_PLAN:
                    for _ in range(most):
                        if self.rng.random() < p:
                            self.award(s, code, self._day(y, m))

    def cadres(self, cadres: list[Subject]):
        for y, m in self.months():
            for s in cadres:
                for code, p, (lo, hi) in CADRE_PLAN:
                    if self.rng.random() < p:
                        for _ in range(self.rng.randint(lo, hi)):
                            self.award(s, code, self._day(y, m))

    def ensure_warning(self, homes: list[Subject], y: int, m: int):
        """At least one warning in 刘冲村's last complete month (the 红黑榜 shows both sides)."""
        liuchong = [s for s in homes if s.village == LIUCHONG and s.boost == 1]
        already = any(a.occurred_on.year == y and a.occurred_on.month == m and a.rule.feeds == "warning"
                      and s.village == LIUCHONG for _, a, s in self.plan.awards)  # fmt: skip
        if liuchong and not already:
            self.award(self.rng.choice(liuchong), "HJ09", self._day(y, m, 3, 20))


def _simulate(b: _Builder, homes: list[Subject], shops: dict, products: dict, users: dict, seed: int):
    """Walk every event in time order: awards post (deductions never below zero), counters
    open every few days and households redeem what their balance and the stock allow,
    shops restock monthly. Returns the entries and stock moves in time order."""
    rng = random.Random(f"points-demo-shop:{seed}:{b.start.isoformat()}")
    events = [(posted_at, 0, i) for i, (posted_at, _, _) in enumerate(b.plan.awards)]
    for kind, every in REDEMPTION_DAYS.items():
        day = b.start + timedelta(days=2)
        while day <= b.until:
            for _ in range(rng.randint(1, 3)):
                events.append((datetime.combine(day, time(rng.randint(8, 16), rng.randint(0, 59)), tzinfo=TZ), 1, kind))
            day += timedelta(days=every)
    for y, m in b.months():
        events.append((datetime(y, m, 1, 8, tzinfo=TZ), 2, None))
    events.sort(key=lambda e: (e[0], e[1], str(e[2])))
    stock = {p.pk: 0 for ps in products.values() for p in ps}
    keeper = users.get(KEEPER[0])
    admin = users.get("baitafan_admin")
    entries, moves, redemptions = [], [], []
    by_village = defaultdict(list)
    for s in homes:
        by_village[s.village].append(s)
    for when, kind, ref in events:
        if kind == 2:  # monthly stock-in
            for shop_kind, ps in products.items():
                for p in ps:
                    size = next(x[4] for x in PRODUCTS[shop_kind] if x[0] == p.name)
                    if stock[p.pk] <= p.low_stock * 2:
                        stock[p.pk] += size
                        moves.append(StockMove(product=p, quantity=size, stock_after=stock[p.pk], reason="stock_in",
                                               actor=keeper if shop_kind == "village" else admin,
                                               note=f"{when.month}月补货", created_at=when))  # fmt: skip
            continue
        if kind == 0:
            _, award, s = b.plan.awards[ref]
            amount = award.points
            if amount < 0:
                amount = max(amount, -s.balance)
            if amount == 0:
                award._entry = None
                continue
            s.balance += amount
            if amount > 0:
                s.earned += amount
            entry = LedgerEntry(account=s.account, area_code=s.account.area_code,
                                kind=EntryKind.AWARD if amount > 0 else EntryKind.DEDUCTION, amount=amount,
                                balance_after=s.balance, actor=None, note=award.rule.name[:200], created_at=when)  # fmt: skip
            entry._award = award
            award._entry = entry
            entries.append(entry)
            continue
        shop = shops[ref]
        pool = by_village[LIUCHONG] if ref == "village" else [s for v in b.villages for s in by_village[v]]
        rich = [s for s in pool if s.balance >= (60 if s.boost > 1 else 12)]
        if not rich:
            continue
        weights = [s.balance * (3 if s.boost > 1 else 1) for s in rich]
        s = rng.choices(rich, weights=weights)[0]
        budget = rng.randint(min(12, s.balance), s.balance)
        if s.boost > 1:  # the demo villager keeps a good part of his points for the portal page
            budget = min(budget, max(12, s.balance // 3))
        lines, total = [], 0
        for p in rng.sample(products[ref], k=len(products[ref])):
            if len(lines) >= 3:
                break
            qty = rng.randint(1, 2)
            if stock[p.pk] >= qty and total + p.price * qty <= budget:
                lines.append((p, qty))
                total += p.price * qty
        if not lines:
            continue
        n = len(redemptions) + 1
        key = f"demo:{seed}:{n}"
        lines.sort(key=lambda x: x[0].pk)
        redemption = Redemption(
            shop=shop, account=s.account, area_code=s.account.area_code, total=total, idempotency_key=key,
            request_hash=shop_services.request_hash(shop.pk, s.account.pk, [(p.pk, q) for p, q in lines]),
            keeper=keeper if ref == "village" else admin, created_at=when,
        )  # fmt: skip
        redemption._lines = lines
        redemptions.append(redemption)
        for p, qty in lines:
            stock[p.pk] -= qty
            moves.append(StockMove(product=p, quantity=-qty, stock_after=stock[p.pk], reason="redemption",
                                   actor=redemption.keeper, created_at=when))  # fmt: skip
            moves[-1]._redemption = redemption
        s.balance -= total
        entry = LedgerEntry(account=s.account, area_code=s.account.area_code, kind=EntryKind.REDEMPTION,
                            amount=-total, balance_after=s.balance, actor=redemption.keeper,
                            idempotency_key=f"redemption:{key}", note=f"{shop.name}兑换", created_at=when)  # fmt: skip
        entry._redemption = redemption
        entries.append(entry)
    return entries, moves, redemptions, stock


def _write(b: _Builder, entries, moves, redemptions, stock, subjects: list[Subject]) -> dict:
    activities = list(b.plan.activities.values())
    Activity.objects.bulk_create(activities, batch_size=500)
    awards = [a for _, a, _ in b.plan.awards]
    for a in awards:
        if a.activity is not None:
            a.activity_id = a.activity.pk
    Award.objects.bulk_create(awards, batch_size=1000)
    Redemption.objects.bulk_create(redemptions, batch_size=500)
    RedemptionItem.objects.bulk_create(
        [RedemptionItem(redemption=r, product=p, quantity=q, price=p.price) for r in redemptions for p, q in r._lines],
        batch_size=1000,
    )
    for e in entries:
        award = getattr(e, "_award", None)
        if award is not None:
            e.source = e.idempotency_key = f"award:{award.pk}"
        else:
            e.source = f"redemption:{e._redemption.pk}"
    LedgerEntry.objects.bulk_create(entries, batch_size=1000)
    for m in moves:
        if m.reason == "redemption":
            m.reason = f"redemption:{m._redemption.pk}"
    StockMove.objects.bulk_create(moves, batch_size=1000)
    ids = [a.pk for a in awards]
    key = Concat(Value("award:"), Cast(OuterRef("pk"), CharField()))
    for i in range(0, len(ids), 5000):
        Award.objects.filter(pk__in=ids[i : i + 5000]).update(
            posted_entry_id=Subquery(LedgerEntry.objects.filter(idempotency_key=key).values("pk")[:1])
        )
    # created_at as the story has it (auto_now_add stamped the load time): proposed the day
    # before the review (the review came 1–4 days after the proposal)
    for i in range(0, len(ids), 5000):
        Award.objects.filter(pk__in=ids[i : i + 5000]).update(
            created_at=F("publicity_until") - timedelta(days=services.PUBLICITY_DAYS + 1)
        )
    for a in b.plan.activities.values():
        a.created_at = datetime.combine(a.held_on, time(8), tzinfo=TZ)
    Activity.objects.bulk_update(activities, ["created_at"], batch_size=500)
    products = list(Product.objects.filter(pk__in=list(stock)))
    for p in products:
        p.stock = stock[p.pk]
    Product.objects.bulk_update(products, ["stock"])
    accounts = []
    for s in subjects:
        s.account.balance, s.account.earned_total = s.balance, s.earned
        accounts.append(s.account)
    Account.objects.bulk_update(accounts, ["balance", "earned_total"], batch_size=500)
    return {"awards": len(awards), "entries": len(entries), "redemptions": len(redemptions), "moves": len(moves),
            "activities": len(activities)}  # fmt: skip


# --- live queues, lists ---------------------------------------------------------------------------
def _live(users: dict, homes: list[Subject], shops: dict, products: dict, now: datetime) -> int:
    """Proposals and publicity now, through the services (audited)."""
    from django.core.exceptions import ValidationError

    from .selectors import rules_for_account

    today = timezone.localtime(now, TZ).date()
    made = 0
    plan = [  # village, proposer, reviewer (None: stays proposed), rule, days ago, reviewed days ago
        (LIUCHONG, "liuchong_grid1", None, "XL01", 1, None),
        (LIUCHONG, "liuchong_grid1", None, "LL01", 2, None),
        (LIUCHONG, "liuchong_secretary", None, "HJ09", 1, None),
        (LIUCHONG, "liuchong_grid1", "liuchong_secretary", "ZY01", 3, 1),
        (LIUCHONG, "liuchong_grid1", "liuchong_secretary", "LC02", 4, 2),
        (DAGANG, "dagang_secretary", None, "XL02", 2, None),
        (DAGANG, "dagang_secretary", None, "ZF02", 1, None),
        (DAGANG, "dagang_secretary", "dagang_secretary", "LL01", 3, 1),
    ]
    rng = random.Random(f"points-demo-live:{today.isoformat()}")
    for village, proposer, reviewer, code, ago, reviewed in plan:
        if proposer not in users:
            continue
        grid_only = proposer == "liuchong_grid1"
        pool = [s for s in homes if s.village == village and s.boost == 1
                and (not grid_only or s.account.area_code.startswith(core_demo.LIUCHONG_GRID1))]  # fmt: skip
        for s in rng.sample(pool, k=min(len(pool), 6)):
            rule = rules_for_account(s.account).filter(code=code).first()
            if rule is None:
                break
            try:
                award = services.award_propose(actor=users[proposer], account=s.account, rule=rule,
                                               occurred_on=today - timedelta(days=ago), reason=REASONS[code][0])  # fmt: skip
                if reviewer and reviewer in users:
                    services.award_review(actor=users[reviewer], award=award, approve=True, note="情况属实",
                                          now=now - timedelta(days=reviewed, hours=2))  # fmt: skip
            except ValidationError:
                continue  # a cap reached: try the next household
            made += 1
            break
    villager = next((s for s in homes if s.boost > 1), None)
    if villager is not None and "liuchong_villager" in users:
        for code in ("ZY01", "LL01", "ZF02"):  # the first whose monthly cap is not reached yet
            rule = rules_for_account(villager.account).filter(code=code).first()
            try:
                services.award_propose(actor=users["liuchong_villager"], account=villager.account, rule=rule,
                                       occurred_on=today - timedelta(days=1),
                                       reason="参加村里组织的关爱留守儿童志愿活动", claimed=True)  # fmt: skip
            except ValidationError:
                continue
            made += 1
            break
    keeper = users.get(KEEPER[0])
    if keeper is not None and villager is not None:
        villager.account.refresh_from_db()
        cheap = sorted(products["village"], key=lambda p: p.price)
        p = next((p for p in cheap if p.price <= villager.account.balance), None)
        if p is not None:
            p.refresh_from_db()
            if p.stock >= 1:
                shop_services.redemption_create(actor=keeper, shop=shops["village"], account=villager.account,
                                                items=[(p.pk, 1)], idempotency_key=f"demo-live:{today.isoformat()}")  # fmt: skip
        last = (Redemption.objects.filter(shop=shops["village"], idempotency_key__startswith="demo:")
                .order_by("-created_at", "-id").first())  # fmt: skip
        if last is not None:
            shop_services.redemption_cancel(actor=keeper, redemption=last, reason="包装破损，顾客退回，积分退还")
    return made


def _lists(users: dict, now: datetime) -> dict:
    """The monthly 红黑榜 of 刘冲村 for the last months (published), this month's draft, a
    party members' list, and appeals (one dismissed, one pending)."""
    secretary = users.get("liuchong_secretary")
    if secretary is None:
        return {"lists": 0}
    today = timezone.localtime(now, TZ).date()
    y, m = today.year, today.month
    months = []
    for _ in range(LIST_MONTHS):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        months.append((y, m))
    published = []
    for y, m in reversed(months):
        board = services.list_generate(actor=secretary, village_code=LIUCHONG, period_kind="month",
                                       period_start=date(y, m, 1))  # fmt: skip
        services.list_approve(actor=secretary, board=board)
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        services.list_publish(actor=secretary, board=board, now=datetime(ny, nm, 3, 10, tzinfo=TZ))
        published.append(board)
    y, m = months[0]
    party = services.list_generate(actor=secretary, village_code=LIUCHONG, period_kind="month",
                                   period_start=date(y, m, 1), subject_kind=SubjectKind.PARTY_MEMBER, top_n=5)  # fmt: skip
    services.list_approve(actor=secretary, board=party)
    services.list_publish(actor=secretary, board=party, now=datetime(today.year, today.month, min(today.day, 3), 9,
                                                                     tzinfo=TZ))  # fmt: skip
    services.list_generate(
        actor=secretary, village_code=LIUCHONG, period_kind="month", period_start=today.replace(day=1)
    )
    warnings = [e for b in published for e in b.entries.filter(side="warning").order_by("id")]
    appeals = 0
    if len(warnings) >= 1:
        first = services.appeal_file(actor=secretary, entry=warnings[0], reason="户主称垃圾系过路车辆倾倒，申请复核")
        services.appeal_decide(actor=secretary, appeal=first, upheld=False,
                               decision="经调取监控和走访邻居核实，确系该户倾倒，维持上榜")  # fmt: skip
        appeals += 1
    if len(warnings) >= 2:
        services.appeal_file(actor=secretary, entry=warnings[-1], reason="已整改到位，申请撤榜")
        appeals += 1
    return {"lists": len(published) + 2, "appeals": appeals}


# --- entry point -------------------------------------------------------------------------------
def already_loaded() -> bool:
    return Rulebook.objects.filter(area_code=TOWNSHIP, title=TOWNSHIP_TITLE).exists()


def load_points_demo(*, stdout=None, now: datetime | None = None, seed: int = SEED) -> dict:
    """Load the demo 积分制 of 白塔畈镇 once. Returns counts (``{"awards": 0}`` when it was
    already there)."""
    import time as _time

    from xiangzhi.org.models import Region

    def out(msg):
        if stdout is not None:
            stdout.write(msg)

    t0 = _time.perf_counter()
    if already_loaded():
        out("积分制演示数据：已存在，未作改动")
        return {"awards": 0}
    now = now or timezone.now()
    today = timezone.localtime(now, TZ).date()
    start = (today.replace(day=1) - timedelta(days=335)).replace(day=1)  # twelve months including this one
    until = today - timedelta(days=HISTORY_LAG_DAYS)
    rng = random.Random(f"points-demo:{seed}:{start.isoformat()}")
    with transaction.atomic():
        users = _users()
        villages = list(Region.objects.filter(parent_id=TOWNSHIP, level="village").order_by("code")
                        .values_list("code", flat=True))  # fmt: skip
        book = services.rulebook_adopt(actor=None, area_code=TOWNSHIP, title=TOWNSHIP_TITLE,
                                       adopted_on=start - timedelta(days=20), votes_for=86, votes_total=92,
                                       adopted_by="白塔畈镇村民代表大会", rules=TOWNSHIP_RULES)  # fmt: skip
        extra = services.rulebook_adopt(actor=None, area_code=LIUCHONG, title=LIUCHONG_TITLE,
                                        adopted_on=start - timedelta(days=12), votes_for=41, votes_total=45,
                                        adopted_by="刘冲村村民代表大会", rules=LIUCHONG_RULES)  # fmt: skip
        rules = {(r.code, ""): r for r in book.rules.select_related("rulebook")}
        rules.update({(r.code, LIUCHONG): r for r in extra.rules.select_related("rulebook")})
        _, homes, party, cadres = _accounts(villages, users)
        shops, products = {}, {}
        for kind, (name, area, address) in SHOPS.items():
            the_shop = shop_services.shop_create(actor=None, area_code=area, name=name, address=address,
                                                 keeper=users.get(KEEPER[0]) if kind == "village" else None)  # fmt: skip
            shops[kind] = the_shop
            products[kind] = Product.objects.bulk_create(
                [Product(shop=the_shop, name=n, unit=u, price=p, low_stock=low, stock=0)
                 for n, u, p, low, _ in PRODUCTS[kind]]
            )  # fmt: skip
        b = _Builder(rng=rng, now=now, start=start, until=until, rules=rules, users=users, villages=villages)
        b.households(homes)
        b.party(party)
        b.cadres(cadres)
        last = today.replace(day=1) - timedelta(days=1)
        if last <= until:
            b.ensure_warning(homes, last.year, last.month)
        b.plan.awards.sort(key=lambda t: t[0])
        entries, moves, redemptions, stock = _simulate(b, homes, shops, products, users, seed)
        counts = _write(b, entries, moves, redemptions, stock, homes + party + cadres)
        audit.record(None, "points.demo_load", ("points.demo", seed), area_code=TOWNSHIP, **counts)
        counts["live"] = _live(users, homes, shops, products, now)
        counts.update(_lists(users, now))
        counts["accounts"] = len(homes) + len(party) + len(cadres)
    out(
        f"积分制演示数据：白塔畈镇 {counts['accounts']} 个积分账户，{counts['awards']} 条已入账申报，"
        f"流水 {counts['entries']} 笔，兑换 {counts['redemptions']} 笔，待评议/公示 {counts['live']} 条，"
        f"红黑榜 {counts['lists']} 期；超市管理员 {KEEPER[0]}（密码 {core_demo.DEMO_PASSWORD}）；"
        f"用时 {_time.perf_counter() - t0:.1f} 秒"
    )
    return counts
