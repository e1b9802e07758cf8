"""Demo cadres and field work: 果子园乡's roster and 白塔畈镇's cadres, visits and recognitions
as the articles describe them.

``load_cadres_demo()`` is called at the end of ``manage.py load_demo`` (after the regions,
grids, demo households, demo accounts and the demo cases). It is idempotent — a second run
finds the 果子园乡 roster and writes nothing — and deterministic: the same seed and the same
day give the same rows. Everybody is fictional (names from the fixed lists of
``xiangzhi.core.demo``).

What it makes:

* **果子园乡** (``reference.guoziyuan_roster``): 67 township cadres with their posts, so that
  on ``reference.REFERENCE_DATE`` the roster shows 67 (22 行政编制, 27 事业编制, 18 三支一扶),
  42 under 35 (62.69 %), 12 leaders of average age 39.92, 5 of them under 35; plus a few
  cadres who left before that day and older posts of serving cadres (history only).
* **白塔畈镇**: ~40 township cadres (储国华 the 党委书记 = ``baitafan_shuji``, 汪明远 =
  ``baitafan_admin``, the 包村干部 ``baitafan_cadre1/2``) and the 村“两委” of its 12 villages.
  At the January 2021 换届 every village elected a secretary who is also director (一肩挑)
  and took in a college graduate (每村一名大学生); the older posts end then, so between
  2020-06-30 and 2022-06-30 the villages' cadres are younger, better educated and fewer.
  刘德山 (``liuchong_secretary``), 余建平 (``dagang_secretary``) and 陈秀珍
  (``liuchong_grid1``, 刘冲村's college graduate) are linked to their accounts.
* 连心工程 (township cadres) and 四联四帮 (village cadres) covering ~93 % of the township's
  demo households, a 板凳会 villager group for every village cadre.
* Visits in 2022 — over 3000 person-times (household visits + 板凳会 attendees) — and in
  the current year. Over 1000 problems found in 2022, each turned into a ``need`` case
  (channel 走访发现) linked both ways (``Problem.case``, ``Case.source =
  "visits.problem:<id>"``) and walked through the case workflow table to 办结 with its
  timeline, as ``xiangzhi.cases.demo`` does; recent problems are partly still waiting for
  the one-tap conversion, recent cases partly still registered.
* 2022: 22 通报批评 of township/village cadres, 4 units commended, one 最美公务员 and one
  最美村干部; 四个一 records of the young cadres (some months without an article),
  业务大讲堂, 承诺践诺 (some overdue), 结对子 and 挂职.

Rows are bulk-written (well under the 20 s budget); one ``cadres.demo_load`` audit event
records the load (nobody performed these steps in this system).
"""

from __future__ import annotations

import random
import time as _time
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import demo as core_demo
from xiangzhi.core import periods

from . import reference
from .choices import CadreLevel, Establishment, FourOnesKind, RecognitionKind, RecognitionTarget
from .metrics import age_on
from .models import Cadre, Commitment, FourOnes, Lecture, Mentorship, Post, Recognition, Secondment

SEED = core_demo.DEMO_SEED
BAITAFAN = core_demo.BAITAFAN
LIUCHONG = core_demo.LIUCHONG
DAGANG = core_demo.DAGANG
GRID1 = core_demo.LIUCHONG_GRID1
HANDOVER = date(2021, 1, 15)  # 2021 村“两委”换届
CONTACTS_START = date(2021, 3, 1)  # 连心工程 / 四联四帮 launched
BEFORE, AFTER = date(2020, 6, 30), date(2022, 6, 30)
YEAR = 2022
COVERAGE = 0.93  # share of households with a linked cadre
ISSUER_TOWNSHIP = "中共白塔畈镇委员会"
ISSUER_BOTH = "中共白塔畈镇委员会 白塔畈镇人民政府"

# --- 白塔畈镇 township roster ------------------------------------------------------------------
# (username or None, name or None, title, leadership, establishment, age on AFTER, education)
TOWNSHIP_LEADERS = [
    ("baitafan_shuji", "储国华", "党委书记", "civil_service", 48, "postgraduate"),
    (None, None, "党委副书记、镇长", "civil_service", 43, "bachelor"),
    (None, None, "人大主席", "civil_service", 54, "bachelor"),
    (None, None, "党委副书记", "civil_service", 39, "bachelor"),
    (None, None, "纪委书记", "civil_service", 45, "bachelor"),
    ("baitafan_admin", "汪明远", "党委委员、组织委员", "civil_service", 36, "bachelor"),
    (None, None, "党委委员、宣传委员", "civil_service", 33, "postgraduate"),
    (None, None, "副镇长", "civil_service", 41, "bachelor"),
    (None, None, "副镇长", "public_institution", 31, "bachelor"),
    (None, None, "武装部长", "civil_service", 50, "junior_college"),
    (None, None, "政法委员", "civil_service", 46, "bachelor"),
]
TOWNSHIP_STAFF_TITLES = [
    "党政办工作人员",
    "综治中心工作人员",
    "便民服务中心工作人员",
    "财政所工作人员",
    "农业综合服务中心工作人员",
    "社会事务办工作人员",
    "经济发展办工作人员",
    "自然资源所工作人员",
]
TOWNSHIP_STAFF = [  # (username, name, title, establishment, age on AFTER, education)
    ("baitafan_cadre1", "詹志平", "包村干部（党政办）", "civil_service", 38, "bachelor"),
    ("baitafan_cadre2", "金秀芳", "包村干部（社会事务办）", "public_institution", 34, "bachelor"),
    ("baitafan_mediator", "方德林", "司法所工作人员、人民调解员", "public_institution", 52, "junior_college"),
]
STAFF_ESTABLISHMENTS = ["civil_service"] * 8 + ["public_institution"] * 12 + ["sanzhi_yifu"] * 6
STAFF_AGES = [23, 24, 24, 25, 26, 26, 27, 28, 28, 29, 30, 31, 32, 33, 34, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55]
STAFF_EDUCATION = ["bachelor", "bachelor", "junior_college", "bachelor", "postgraduate", "junior_college"]
NEW_TOWNSHIP_STAFF = 2  # the last staff members started in 2021 (三支一扶)
FORMER_TOWNSHIP = [("党政办工作人员", 52), ("财政所工作人员", 57), ("农业综合服务中心工作人员", 58), ("副镇长", 49)]

# --- villages ----------------------------------------------------------------------------------
VILLAGE_USERS = {
    LIUCHONG: {"secretary": ("liuchong_secretary", "刘德山", 47, "junior_college"),
               "graduate": ("liuchong_grid1", "陈秀珍", 29, "bachelor")},
    DAGANG: {"secretary": ("dagang_secretary", "余建平", 44, "bachelor")},
}  # fmt: skip
DUAL_BEFORE = 2  # villages whose old secretary already was also director
GRADUATE_BEFORE = 4  # villages that already had a college graduate before 2021

HELP = ["产业帮扶：茶叶种植技术指导", "就业帮扶：推荐到镇茶厂务工", "政策帮扶：医保、养老保险办理", "教育帮扶：雨露计划申报",
        "产业帮扶：油茶、板栗种植", "生活帮扶：独居老人定期探望", "就业帮扶：光伏电站保洁岗位", "产业帮扶：土鸡散养"]  # fmt: skip
VISIT_SUMMARIES = [
    "入户了解家庭收入和务工情况，宣传惠民政策",
    "了解老人身体和生活情况，叮嘱注意用电用火安全",
    "核对家庭成员信息，宣传医保、养老保险缴费政策",
    "了解茶叶、板栗种植和销售情况",
    "宣传防汛防地质灾害知识，查看房前屋后隐患",
    "了解孩子上学情况，宣传教育资助政策",
    "宣传移风易俗、红白喜事简办，听取意见建议",
    "走访了解产业发展打算，介绍小额信贷政策",
]
HELP_SUMMARIES = ["帮助联系茶叶收购商，解决春茶销路", "帮助办理医保报销材料", "陪同到镇便民服务中心办理业务",
                  "送去米油等慰问品，帮助打扫卫生"]  # fmt: skip
BENCH_TOPICS = ["人居环境整治", "组级道路维修筹资", "茶园管护和销售", "防汛备汛", "移风易俗、红白喜事简办",
                "村规民约修订", "产业发展项目", "饮水安全"]  # fmt: skip
# (category, problem, plan, result)
PROBLEMS = [
    ("water", "自来水水压不足，高处几户用水困难", "联系水务站检修加压泵", "水务站更换加压泵，供水恢复正常"),
    ("water", "农田灌溉水渠渗漏，影响插秧", "组织组里群众投工投劳修补", "水渠已用水泥修补，灌溉恢复"),
    ("road", "组道路面破损，雨天积水难行", "上报镇交通办列入维修", "已铺设碎石修补路面"),
    ("road", "路灯损坏，夜间出行不便", "联系路灯维护单位更换", "已更换路灯灯头"),
    ("housing", "老人房屋屋顶漏雨", "组织志愿者修缮", "更换破损瓦片，屋顶不再漏雨"),
    ("housing", "咨询危房改造补助申请", "协助申请房屋安全鉴定", "已完成鉴定并纳入改造计划"),
    ("medical", "慢性病老人需办理门诊慢特病", "协助准备材料到镇卫生院申请", "已办理慢特病证，门诊报销比例提高"),
    ("medical", "独居老人行动不便，取药困难", "安排家庭医生上门、网格员代购药品", "家庭医生签约随访，药品每月代购"),
    ("medical", "残疾人证到期需要换证", "协助预约评残、准备材料", "已换发残疾人证"),
    ("school", "孩子上学路远，申请寄宿", "联系镇中心学校安排寄宿", "已安排学校寄宿"),
    ("school", "脱贫户子女申请雨露计划补助", "协助准备申报材料", "补助已申请到位"),
    ("labour", "返乡人员想在本地找工作", "推荐到镇茶叶加工厂、光伏电站", "已在镇茶厂上岗"),
    ("labour", "在外务工工资被拖欠", "联系劳动监察部门协调", "工资已结清"),
    ("environment", "房前垃圾收集点清运不及时", "对接保洁公司调整清运频次", "已改为每日清运"),
    ("environment", "沟渠淤塞，汛期有漫水隐患", "组织清淤", "沟渠已清淤疏通"),
    ("other", "入户电线老化，存在用电隐患", "联系供电所检修", "供电所更换了入户线"),
    ("other", "养老保险资格认证不会在手机上操作", "网格员上门协助认证", "已完成资格认证"),
    ("other", "茶叶销售难，想找销路", "对接村电商服务站", "通过电商服务站售出春茶"),
    ("other", "家庭困难，咨询临时救助", "协助申请临时救助", "临时救助金已发放"),
    ("land", "承包地确权信息有误需更正", "调阅确权资料，上报更正", "确权信息已更正"),
    ("forest", "山林防火通道杂草丛生", "组织护林员清理", "防火通道已清理"),
    ("other", "手机信号差，山上几户接不到电话", "联系通信公司勘察", "通信公司已加装信号放大器"),
]
CRITICISM_REASONS = ["连心工程走访台账与实际不符", "防汛值班期间脱岗", "信访事项未按期答复", "人居环境整治推进不力",
                     "村务公开不及时", "网格员走访不到位，群众反映问题未及时上报", "工作纪律松散，迟到早退",
                     "民生实事项目推进迟缓", "森林防火巡查不到位", "会议精神传达落实不到位", "对群众诉求推诿敷衍"]  # fmt: skip
COMMENDED_UNITS = ["白塔畈镇农业综合服务中心", "白塔畈镇财政所", "白塔畈镇卫生院", "白塔畈镇派出所"]
LECTURES = [  # (month, speaker title, topic)
    (3, "党委书记", "业务大讲堂：学习贯彻《信访工作条例》"),
    (4, "党委副书记、镇长", "业务大讲堂：乡村振兴政策解读"),
    (5, "政法委员", "业务大讲堂：矛盾纠纷排查化解方法"),
    (7, "副镇长", "业务大讲堂：防汛抗旱与应急处置"),
    (9, "纪委书记", "业务大讲堂：廉洁从政警示教育"),
    (11, "党委委员、组织委员", "业务大讲堂：公文写作与信息报送"),
]
BOOKS = ["《之江新语》", "《习近平的七年知青岁月》", "《乡土中国》", "《中国共产党简史》", "《摆脱贫困》"]
SECONDMENTS = [("金寨县信访局", "挂职锻炼"), ("金寨县乡村振兴局", "挂职副股长"), ("六安市委组织部", "跟班学习")]
CHINESE_NUMERALS = "一二三四五六七八九十"


def _grid_name(i: int) -> str:
    return CHINESE_NUMERALS[i] if i < 10 else str(i + 1)


# --- people ------------------------------------------------------------------------------------
class _Names:
    """Fictional names from the demo lists: unique within the load, never a famous name."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.surnames = [s for s, _ in core_demo.SURNAMES]
        self.weights = [w for _, w in core_demo.SURNAMES]

    def take(self, name: str) -> str:
        self.used.add(name)
        return name

    def new(self, sex: str, birth_year: int) -> str:
        old = birth_year < 1980
        d = core_demo
        if sex == "male":
            first, second = (
                (d.GIVEN_MALE_OLD, d.GIVEN_MALE_OLD_2) if old else (d.GIVEN_MALE_YOUNG, d.GIVEN_MALE_YOUNG_2)
            )
        else:
            first, second = (
                (d.GIVEN_FEMALE_OLD, d.GIVEN_FEMALE_OLD_2) if old else (d.GIVEN_FEMALE_YOUNG, d.GIVEN_FEMALE_YOUNG_2)
            )
        for _ in range(200):
            name = self.rng.choices(self.surnames, self.weights)[0] + self.rng.choice(first) + self.rng.choice(second)
            if name not in self.used and name not in d.FAMOUS_NAMES and name != d.FEATURED_HEAD:
                return self.take(name)
        raise RuntimeError("no fresh name")


def _birth(age: int, on: date, rng: random.Random) -> date:
    """A birth date giving ``age`` completed years on ``on``."""
    day = on - timedelta(days=rng.randrange(1, 360))
    return date(day.year - age, day.month, min(day.day, 28))


# --- 果子园乡 -------------------------------------------------------------------------------------
def _guoziyuan(rng: random.Random, names: _Names) -> tuple[list, list]:
    cadres, posts = [], []
    for p in reference.guoziyuan_roster():
        names.take(p["name"])
        c = Cadre(area_code=reference.TOWNSHIP, level=CadreLevel.TOWNSHIP, name=p["name"], sex=p["sex"],
                  birth_date=p["birth_date"], education=p["education"], establishment=p["establishment"],
                  party_member=p["party_member"], college_graduate=p["college_graduate"],
                  joined_on=date(p["birth_date"].year + 22, 8, 1))  # fmt: skip
        cadres.append(c)
        posts.append(Post(cadre=c, area_code=reference.TOWNSHIP, title=p["title"], leadership=p["leadership"],
                          is_secretary=p["title"] == "党委书记", start=p["start"]))  # fmt: skip
        if p["leadership"] and age_on(p["birth_date"], reference.REFERENCE_DATE) < 35:
            # a young leader promoted from a staff post: the older post is history
            posts.append(Post(cadre=c, area_code=reference.TOWNSHIP, title="工作人员", start=date(p["start"].year - 3, 9, 1),
                              end=p["start"]))  # fmt: skip
    for i, (title, age) in enumerate([("党政办工作人员", 56), ("副乡长", 50), ("财政所工作人员", 59)]):
        sex = "male" if i % 2 == 0 else "female"
        birth = _birth(age, date(2020, 6, 30), rng)
        c = Cadre(area_code=reference.TOWNSHIP, level=CadreLevel.TOWNSHIP, name=names.new(sex, birth.year), sex=sex,
                  birth_date=birth, education="junior_college", establishment="civil_service", party_member=True,
                  left_on=date(2021 + i % 2, 3 + i, 1))  # fmt: skip
        cadres.append(c)
        posts.append(Post(cadre=c, area_code=reference.TOWNSHIP, title=title, leadership=title == "副乡长",
                          start=date(2012 + i, 3, 1), end=c.left_on))  # fmt: skip
    return cadres, posts


# --- 白塔畈镇 ------------------------------------------------------------------------------------
class _Baitafan:
    def __init__(self, *, rng, names, people, villages, grids, households, today, now, categories):
        self.rng = rng
        self.names = names
        self.people = people  # username → User
        self.villages = villages  # [(code, name)]
        self.grids = grids  # village → [grid codes]
        self.households = households  # village → [{id, area_code, head_name}]
        self.today = today
        self.now = now
        self.categories = categories
        self.cadres: list[Cadre] = []
        self.posts: list[Post] = []
        self.township: list[Cadre] = []  # serving township cadres (AFTER and today)
        self.leaders: list[tuple[Cadre, str]] = []
        self.village_current: dict[str, list[Cadre]] = {}  # village → serving 两委 members
        self.secretary: dict[str, Cadre] = {}
        self.served: dict[int, list] = {}  # id(cadre) → [(start, end)]

    def serving(self, cadre: Cadre, year: int) -> bool:
        first, last = date(year, 1, 1), date(year, 12, 31)
        return any(s <= last and (e is None or e > first) for s, e in self.served.get(id(cadre), []))

    # --- roster --------------------------------------------------------------------------------
    def cadre(self, *, area, name, sex, birth, education, establishment, party=True, college=None, user=None,
              joined=None, left=None) -> Cadre:  # fmt: skip
        c = Cadre(area_code=area, level=CadreLevel.TOWNSHIP if len(area) == 9 else CadreLevel.VILLAGE, name=name,
                  sex=sex, birth_date=birth, education=education, establishment=establishment, party_member=party,
                  college_graduate=(education in ("bachelor", "postgraduate")) if college is None else college,
                  user=user, joined_on=joined, left_on=left)  # fmt: skip
        self.cadres.append(c)
        return c

    def post(self, cadre, title, start, end=None, *, leadership=False, secretary=False, director=False, area=None):
        self.served.setdefault(id(cadre), []).append((start, end))
        self.posts.append(Post(cadre=cadre, area_code=area or cadre.area_code, title=title, leadership=leadership,
                               is_secretary=secretary, is_director=director, start=start, end=end))  # fmt: skip

    def person(self, username, name, sex, age, on=AFTER):
        birth = _birth(age, on, self.rng)
        user = self.people.get(username) if username else None
        if user is not None and name:
            return self.names.take(name), birth, user
        return (self.names.take(name) if name else self.names.new(sex, birth.year)), birth, None

    def township_roster(self) -> None:
        rng = self.rng
        for i, (username, name, title, est, age, edu) in enumerate(TOWNSHIP_LEADERS):
            sex = "female" if i in (6, 8) else "male"
            name, birth, user = self.person(username, name, sex, age)
            c = self.cadre(area=BAITAFAN, name=name, sex=sex, birth=birth, education=edu, establishment=est, user=user,
                           joined=date(birth.year + 22, 8, 1))  # fmt: skip
            start = date(2016 + i % 5, 3 + i % 6, 1)
            if i in (6, 8):  # young leaders promoted in 2021 from staff posts
                self.post(c, "党政办工作人员", date(2016, 8, 1), date(2021, 6, 1))
                start = date(2021, 6, 1)
            self.post(c, title, start, leadership=True, secretary=title == "党委书记")
            self.township.append(c)
            self.leaders.append((c, title))
        staff = list(TOWNSHIP_STAFF)
        for i, est in enumerate(STAFF_ESTABLISHMENTS):
            age = STAFF_AGES[i] if i < len(STAFF_AGES) else 24 + i % 10
            staff.append((None, None, TOWNSHIP_STAFF_TITLES[i % len(TOWNSHIP_STAFF_TITLES)], est, age,
                          STAFF_EDUCATION[i % len(STAFF_EDUCATION)]))  # fmt: skip
        for i, (username, name, title, est, age, edu) in enumerate(staff):
            sex = "female" if (username == "baitafan_cadre2" or i % 3 == 1) else "male"
            name, birth, user = self.person(username, name, sex, age)
            c = self.cadre(area=BAITAFAN, name=name, sex=sex, birth=birth, education=edu, establishment=est, user=user,
                           party=i % 4 != 3, joined=date(birth.year + 22, 8, 1))  # fmt: skip
            new = i >= len(staff) - NEW_TOWNSHIP_STAFF
            start = date(2021, 8, 1) if new else date(max(birth.year + 22, 2012) + i % 3, 8 + i % 3, 1)
            self.post(c, "三支一扶人员（" + title + "）" if est == "sanzhi_yifu" and not username else title, start)
            self.township.append(c)
        for i, (title, age) in enumerate(FORMER_TOWNSHIP):  # transferred away in 2021
            sex = "male" if i % 2 == 0 else "female"
            name, birth, _ = self.person(None, None, sex, age, on=BEFORE)
            left = date(2021, 4 + i, 1)
            c = self.cadre(area=BAITAFAN, name=name, sex=sex, birth=birth, education="junior_college",
                           establishment="civil_service", left=left, joined=date(birth.year + 21, 8, 1))  # fmt: skip
            self.post(c, title, date(2010 + i, 3, 1), left, leadership=title == "副镇长")
        rest = self.township[len(TOWNSHIP_LEADERS) :]
        rng.shuffle(rest)  # who is 包村 where
        self.township[len(TOWNSHIP_LEADERS) :] = rest

    def village_roster(self) -> None:
        rng = self.rng
        for index, (code, _vname) in enumerate(self.villages):
            users = VILLAGE_USERS.get(code, {})
            dual_before = index in (3, 8)
            grad_before = index in (1, 5, 9, 11)
            current: list[Cadre] = []
            # the old secretary (and director), ended at the 换届
            name, birth, _ = self.person(None, None, "male", 57 + index % 6, on=BEFORE)
            old_sec = self.cadre(area=code, name=name, sex="male", birth=birth, education=rng.choice(["secondary", "junior"]),
                                 establishment="village", left=HANDOVER)  # fmt: skip
            title = "村党支部书记、村委会主任" if dual_before else "村党支部书记"
            self.post(old_sec, title, date(2011 + index % 3 * 3, 4, 1), HANDOVER, leadership=True, secretary=True,
                      director=dual_before)  # fmt: skip
            if not dual_before:
                name, birth, _ = self.person(None, None, "male", 51 + index % 8, on=BEFORE)
                old_dir = self.cadre(area=code, name=name, sex="male", birth=birth, education="secondary",
                                     establishment="village", party=index % 2 == 0, left=HANDOVER)  # fmt: skip
                self.post(
                    old_dir, "村委会主任", date(2014 + index % 2 * 3, 4, 1), HANDOVER, leadership=True, director=True
                )
            # the new secretary: 一肩挑 since the 换届 (for 刘冲村 / 大岗村 the demo accounts)
            username, name, age, edu = users.get("secretary", (None, None, 38 + index % 9, rng.choice(
                ["bachelor", "junior_college"])))  # fmt: skip
            name, birth, user = self.person(username, name, "male", age)
            sec = self.cadre(area=code, name=name, sex="male", birth=birth, education=edu, establishment="village",
                             user=user, college=edu == "bachelor", joined=date(birth.year + 20, 7, 1))  # fmt: skip
            if code == LIUCHONG:
                self.post(sec, "村委会委员", date(2014, 4, 1), HANDOVER)
            elif code == DAGANG:
                self.post(sec, "村党支部副书记", date(2017, 4, 1), HANDOVER)
            self.post(sec, "村党支部书记、村委会主任", HANDOVER, leadership=True, secretary=True, director=True)
            self.secretary[code] = sec
            current.append(sec)
            # three older committee members who stood down at the 换届
            for k in range(3 if code not in (LIUCHONG, DAGANG) else 2):
                sex = "female" if k == 1 else "male"
                name, birth, _ = self.person(None, None, sex, 48 + (index + k * 5) % 14, on=BEFORE)
                m = self.cadre(area=code, name=name, sex=sex, birth=birth, education=rng.choice(["secondary", "junior"]),
                               establishment="village", party=k != 2, left=HANDOVER)  # fmt: skip
                self.post(m, "村委会委员" if k else "村党支部委员", date(2014 + k, 4, 1), HANDOVER)
            # two members who continue (one of them a graduate where the village had one)
            for k in range(2):
                sex = "female" if k == 1 else "male"
                graduate = grad_before and k == 1
                age = 29 + index % 4 if graduate else 40 + (index * 3 + k * 7) % 12
                name, birth, _ = self.person(None, None, sex, age)
                m = self.cadre(area=code, name=name, sex=sex, birth=birth,
                               education="bachelor" if graduate else rng.choice(["secondary", "junior_college"]),
                               establishment="village", college=graduate)  # fmt: skip
                self.post(m, ("村党支部副书记" if k == 0 else "村委会委员（妇联主席）"), date(2017 + k, 4, 1),
                          leadership=k == 0)  # fmt: skip
                current.append(m)
            # the college graduate elected at the 换届 (每村一名大学生)
            username, name, age, edu = users.get("graduate", (None, None, 24 + index % 6, "bachelor"))
            sex = "female" if username or index % 2 else "male"
            name, birth, user = self.person(username, name, sex, age)
            g = self.cadre(area=code, name=name, sex=sex, birth=birth, education=edu, establishment="village",
                           college=True, user=user, party=index % 3 != 0, joined=date(birth.year + 22, 7, 1))  # fmt: skip
            self.post(g, "村委会委员（大学生村干部）" + ("、网格员" if username else ""), HANDOVER)
            current.append(g)
            # and one more committee member elected then
            sex = "female" if index % 2 == 0 else "male"
            name, birth, _ = self.person(None, None, sex, 35 + index % 9)
            m = self.cadre(area=code, name=name, sex=sex, birth=birth, establishment="village",
                           education=rng.choice(["junior_college", "secondary", "bachelor"]))  # fmt: skip
            self.post(m, "村委会委员", HANDOVER)
            current.append(m)
            self.village_current[code] = current

    # --- contact assignments ---------------------------------------------------------------------
    def contacts(self) -> tuple[list, dict]:
        """(ContactAssignment rows, household id → [(cadre, kind)])."""
        from xiangzhi.visits.models import ContactAssignment, ContactKind

        rng = self.rng
        rows: list = []
        linked: dict[int, list] = {}
        township = [c for c in self.township if c.user_id is None or c.user.username != "baitafan_mediator"]
        for index, (code, _vname) in enumerate(self.villages):
            homes = list(self.households.get(code, []))
            rng.shuffle(homes)
            homes = homes[: round(len(homes) * COVERAGE)]
            village_cadres = self.village_current[code]
            # 包村: about three township cadres per village (连心工程)
            heart = [c for i, c in enumerate(township) if i % len(self.villages) == index]
            grad = next((c for c in village_cadres if c.user_id and c.user.username == "liuchong_grid1"), None)
            grid1 = [h for h in homes if h["area_code"] == GRID1] if grad is not None else []
            others = [h for h in homes if h["area_code"] != GRID1 or grad is None]
            for k, h in enumerate(others):
                if heart and k % 3 == 0:
                    cadre, kind = heart[(k // 3) % len(heart)], ContactKind.HEART_LINK
                else:
                    pool = [c for c in village_cadres if c is not grad]
                    cadre, kind = pool[k % len(pool)], ContactKind.FOUR_LINKS
                rows.append(self._contact(ContactAssignment, cadre, kind, h))
                linked.setdefault(h["id"], []).append((cadre, kind))
            for k, h in enumerate(grid1):  # 陈秀珍 (liuchong_grid1) looks after her own grid
                rows.append(self._contact(ContactAssignment, grad, ContactKind.FOUR_LINKS, h))
                linked.setdefault(h["id"], []).append((grad, ContactKind.FOUR_LINKS))
                if k % 4 == 0 and heart:
                    cadre = heart[k % len(heart)]
                    rows.append(self._contact(ContactAssignment, cadre, ContactKind.HEART_LINK, h))
                    linked[h["id"]].append((cadre, ContactKind.HEART_LINK))
            # 板凳会: every village cadre is linked to a villager group (the secretary to two)
            short = _vname[:-1] if _vname.endswith(("村", "社区")) else _vname
            short = _vname[:-2] if _vname.endswith("社区") else short
            groups = [f"{short}{CHINESE_NUMERALS[g]}组" for g in range(8)]
            owners = village_cadres + [village_cadres[0]] + village_cadres[1:3]
            for g, cadre in zip(groups, owners, strict=False):
                rows.append(ContactAssignment(cadre=cadre, kind=ContactKind.BENCH_MEETING, group_name=g, area_code=code,
                                              start=CONTACTS_START))  # fmt: skip
        return rows, linked

    def _contact(self, model, cadre, kind, h):
        from xiangzhi.visits.models import ContactKind

        help_text = self.rng.choice(HELP) if kind == ContactKind.FOUR_LINKS else ""
        return model(cadre=cadre, kind=kind, household_id=h["id"], area_code=h["area_code"], help=help_text,
                     start=CONTACTS_START)  # fmt: skip


# --- loading -------------------------------------------------------------------------------------
def already_loaded() -> bool:
    first = reference.guoziyuan_roster()[0]
    return Cadre.objects.filter(
        area_code=reference.TOWNSHIP, name=first["name"], birth_date=first["birth_date"]
    ).exists()


def _people() -> dict:
    from xiangzhi.accounts.models import User

    wanted = ["liuchong_secretary", "dagang_secretary", "liuchong_grid1", "baitafan_admin", "baitafan_shuji",
              "baitafan_cadre1", "baitafan_cadre2", "baitafan_mediator"]  # fmt: skip
    taken = set(Cadre.objects.filter(user__username__in=wanted).values_list("user__username", flat=True))
    return {u.username: u for u in User.objects.filter(username__in=wanted) if u.username not in taken}


def _households(villages) -> dict:
    from xiangzhi.residents.models import Household

    out: dict = {}
    for row in (
        Household.objects.filter(village_code__in=[v for v, _ in villages], note=core_demo.DEMO_NOTE)
        .order_by("village_code", "id")
        .values("id", "village_code", "area_code", "head_name")
    ):
        out.setdefault(row["village_code"], []).append(row)
    return out


def load_cadres_demo(*, stdout=None, now: datetime | None = None, seed: int = SEED) -> dict:
    """Load the demo roster and field work once. Returns counts ({"cadres": 0} when already
    loaded)."""
    from xiangzhi.org.models import Region

    def out(msg):
        if stdout is not None:
            stdout.write(msg)

    t0 = _time.perf_counter()
    if already_loaded():
        out("干部与走访演示数据：已存在，未作改动")
        return {"cadres": 0}
    now = now or timezone.now()
    today = timezone.localtime(now, periods.TZ).date()
    rng = random.Random(f"cadres-demo:{seed}")
    with transaction.atomic():
        from xiangzhi.cases.config import categories_ensure_defaults
        from xiangzhi.cases.models import Category

        categories_ensure_defaults(actor=None)
        names = _Names(rng)
        names.used |= set(Cadre.objects.values_list("name", flat=True))
        g_cadres, g_posts = _guoziyuan(rng, names)
        villages = list(
            Region.objects.filter(parent_id=BAITAFAN, level="village").order_by("code").values_list("code", "name")
        )
        grids: dict = {}
        for code, parent in Region.objects.filter(parent_id__in=[v for v, _ in villages], level="grid").values_list(
            "code", "parent_id"
        ):
            grids.setdefault(parent, []).append(code)
        b = _Baitafan(rng=rng, names=names, people=_people(), villages=villages, grids=grids,
                      households=_households(villages), today=today, now=now,
                      categories=dict(Category.objects.filter(township_code="").values_list("code", "pk")))  # fmt: skip
        b.township_roster()
        b.village_roster()
        cadres = g_cadres + b.cadres
        Cadre.objects.bulk_create(cadres, batch_size=500)
        for p in g_posts + b.posts:
            p.cadre_id = p.cadre.pk
        Post.objects.bulk_create(g_posts + b.posts, batch_size=500)
        counts = {"cadres": len(cadres), "posts": len(g_posts) + len(b.posts)}
        counts |= _field_work(b)
        counts |= _recognitions(b)
        counts |= _growth(b)
        audit.record(None, "cadres.demo_load", ("cadres.demo", seed), **counts)
    out(
        f"干部与走访演示数据：干部 {counts['cadres']} 人（任职 {counts['posts']} 条），联系户 {counts['contacts']} 条，"
        f"走访 {counts['visits']} 次，发现问题 {counts['problems']} 个（转为事项 {counts['cases']} 件），"
        f"表扬批评 {counts['recognitions']} 条；用时 {_time.perf_counter() - t0:.1f} 秒"
    )
    return counts


# --- visits, problems and their cases ------------------------------------------------------------
def _days(start: date, end: date) -> list[date]:
    """Working days (Mon–Fri) in [start, end)."""
    return [start + timedelta(days=i) for i in range((end - start).days) if (start + timedelta(days=i)).weekday() < 5]


def _at(day: date, rng: random.Random, lo: int = 8, hi: int = 18) -> datetime:
    minutes = rng.randrange(lo * 60, hi * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=periods.TZ)


def _field_work(b: _Baitafan) -> dict:
    from xiangzhi.visits.models import ContactAssignment, ContactKind, Problem, Visit, VisitHousehold, VisitKind

    rng, today = b.rng, b.today
    rows, linked = b.contacts()
    ContactAssignment.objects.bulk_create(rows, batch_size=1000)
    homes = {h["id"]: h for v in b.households.values() for h in v}
    # (visit, [household rows], [problem descriptions templates])
    plans: list[tuple] = []
    periods_ = [(YEAR, _days(date(YEAR, 1, 4), date(YEAR, 12, 30)), (2, 3, 3, 4), 0.49)]
    if today.year > YEAR:
        this_year = _days(date(today.year, 1, 1), today)
        if this_year:
            periods_.append((today.year, this_year, (0, 1, 1, 2), 0.33))
    for _year, days, visits_per_link, problem_share in periods_:
        for hid in sorted(linked):
            for cadre, kind in linked[hid]:
                for _ in range(rng.choice(visits_per_link)):
                    day = rng.choice(days)
                    h = homes[hid]
                    households = [h]
                    if rng.random() < 0.08:  # 顺路: a neighbour of the same cadre on the same trip
                        mates = [x for x, links in linked.items() if x != hid and homes[x]["area_code"] == h["area_code"]
                                 and any(c is cadre for c, _ in links)]  # fmt: skip
                        if mates:
                            households.append(homes[rng.choice(mates)])
                    helping = kind == ContactKind.FOUR_LINKS and rng.random() < 0.2
                    v = Visit(cadre=cadre, area_code=h["area_code"], visited_on=day,
                              kind=VisitKind.HELP if helping else VisitKind.VISIT,
                              summary=rng.choice(HELP_SUMMARIES if helping else VISIT_SUMMARIES),
                              created_by=cadre.user)  # fmt: skip
                    problems = [(x, rng.choice(PROBLEMS)) for x in households if rng.random() < problem_share]
                    plans.append((v, households, problems))
        # 板凳会: each linked group meets once in the period (spring)
        for a in rows:
            if a.kind != ContactKind.BENCH_MEETING:
                continue
            spring = [d for d in days if d.month in (3, 4, 5)] or days
            day = rng.choice(spring)
            topic = rng.choice(BENCH_TOPICS)
            v = Visit(cadre=a.cadre, area_code=a.area_code, visited_on=day, kind=VisitKind.BENCH_MEETING,
                      group_name=a.group_name, attendees=rng.randint(9, 17),
                      summary=f"{a.group_name}板凳会：围绕“{topic}”听取群众意见建议", created_by=a.cadre.user)  # fmt: skip
            problems = [(None, rng.choice(PROBLEMS)) for _ in range(rng.choice((0, 1, 1, 2)))]
            plans.append((v, [], problems))
    plans.sort(key=lambda p: (p[0].visited_on, p[0].cadre.pk, p[0].area_code))
    visits = [p[0] for p in plans]
    Visit.objects.bulk_create(visits, batch_size=1000)
    through = Visit.households.through
    links, vh, problems = [], [], []
    for v, households, found in plans:
        v.created_at = _at(v.visited_on, rng, 17, 21)
        for h in households:
            links.append(through(visit_id=v.pk, household_id=h["id"]))
            vh.append(VisitHousehold(visit_id=v.pk, household_id=h["id"], cadre_id=v.cadre.pk, area_code=h["area_code"],
                                     visited_on=v.visited_on))  # fmt: skip
        for h, template in found:
            problems.append(Problem(visit=v, area_code=h["area_code"] if h else v.area_code,
                                    household_id=h["id"] if h else None, description=template[1]))  # fmt: skip
            problems[-1]._template = template
            problems[-1]._head = h["head_name"] if h else ""
    Visit.objects.bulk_update(visits, ["created_at"], batch_size=1000)
    through.objects.bulk_create(links, batch_size=2000)
    VisitHousehold.objects.bulk_create(vh, batch_size=2000)
    Problem.objects.bulk_create(problems, batch_size=1000)
    cases = _problem_cases(b, problems)
    return {"contacts": len(rows), "visits": len(visits), "problems": len(problems), "cases": cases}


def _problem_cases(b: _Baitafan, problems: list) -> int:
    """Each problem becomes a ``need`` case as ``visits.services.problem_to_case`` would
    register it, walked through the workflow table to 办结 (recent ones are left for the
    one tap, or still registered)."""
    from xiangzhi.cases import deadlines, workflow
    from xiangzhi.cases.choices import Kind, Level, Satisfaction, Status
    from xiangzhi.cases.models import Case, CaseEvent, FollowUp
    from xiangzhi.cases.services import TRACKING_ALPHABET
    from xiangzhi.visits.models import Problem

    rng, now, today = b.rng, b.now, b.today
    p = b.people
    codes = set(Case.objects.values_list("tracking_code", flat=True))
    limits = {
        lvl: deadlines.level_limit(township_code=BAITAFAN, kind=Kind.NEED, level=lvl)
        for lvl in (Level.GRID, Level.VILLAGE)
    }
    secretaries = {LIUCHONG: p.get("liuchong_secretary"), DAGANG: p.get("dagang_secretary")}
    village_index = {code: i for i, (code, _) in enumerate(b.villages)}
    stories = []  # (problem, case, [events], follow_up)

    def tracking_code():
        while True:
            code = "".join(rng.choice(TRACKING_ALPHABET) for _ in range(10))
            if code not in codes:
                codes.add(code)
                return code

    for prob in problems:
        visit = prob.visit
        age_days = (today - visit.visited_on).days
        if age_days <= 20 and rng.random() < 0.4:
            continue  # found recently, not yet turned into a case (the one tap is still there)
        village = prob.area_code[:12]
        secretary = secretaries.get(village)
        fallback = p.get("baitafan_cadre1" if village_index.get(village, 0) % 2 == 0 else "baitafan_cadre2")
        local = secretary or fallback or p.get("baitafan_admin")
        grid_worker = p.get("liuchong_grid1") if prob.area_code == GRID1 else None
        handler = grid_worker or local
        registrar = visit.cadre.user or handler
        cat, description, plan, result = prob._template
        level = Level.GRID if len(prob.area_code) == 15 else Level.VILLAGE
        received = _at(visit.visited_on, rng, 17, 20)
        case = Case(
            area_code=prob.area_code, kind=Kind.NEED, channel="visit", category_id=b.categories.get(cat),
            title=description[:100], description=f"{visit.visited_on:%Y-%m-%d}走访发现：{description}",
            tracking_code=tracking_code(), household_id=prob.household_id, contact_name=prob._head,
            status=Status.REGISTERED, level=level, received_at=received, level_since=received,
            first_responsible=secretary, created_by=registrar, source=f"visits.problem:{prob.pk}",
            idempotency_key=f"visit-problem-{prob.pk}",
        )  # fmt: skip
        limit = limits[level]
        case.level_due_at = periods.deadline(received, limit.days, working=limit.working_days)
        case.yellow_at = deadlines.yellow_at(received, case.level_due_at, limit.yellow_share)
        events = []

        def act(action, at, actor, note="", case=case, events=events, **data):
            before = (case.status, case.level)
            case.status = workflow.target(case.status, action) or case.status
            events.append(CaseEvent(at=at, actor=actor, action=action, from_status=before[0], to_status=case.status,
                                    from_level=before[1], to_level=case.level, note=note, data=data))  # fmt: skip

        events.append(CaseEvent(at=received, actor=registrar, action="register", from_status="", from_level="",
                                to_status=case.status, to_level=case.level, data={"channel": "visit"}))  # fmt: skip
        follow = None
        if age_days > 2:
            # hours after registration: accept (next morning), assign, start, resolve, close
            steps = [rng.uniform(13, 16), rng.uniform(0.5, 4), rng.uniform(1, 18),
                     rng.uniform(6, 24 * (2 if level == Level.GRID else 5)), rng.uniform(2, 40)]  # fmt: skip
            room = (now - timedelta(hours=3) - received).total_seconds() / 3600
            if sum(steps) > room:  # found a few days ago: handled quickly
                steps = [h * room / sum(steps) for h in steps]
            marks = [received + timedelta(hours=sum(steps[: i + 1])) for i in range(5)]
            accepted = marks[0]
            act("accept", accepted, handler)
            case.accepted_at, case.accepted_level = accepted, level
            lead = secretary or (p.get("baitafan_shuji") if rng.random() < 0.3 else local)
            due = periods.deadline(accepted, 7 if level == Level.GRID else 15)
            assigned = marks[1]
            assigner = secretary or local
            case.lead, case.handler, case.plan, case.due_at = lead, handler, plan, due
            case.responsibility = f"{handler.full_name}负责具体办理，{lead.full_name}包案督导，按期解决"
            act("assign", assigned, assigner, note=f"包案领导：{lead}；承办人：{handler}", lead_id=lead.pk,
                handler_id=handler.pk, due_at=due.isoformat())  # fmt: skip
            started = marks[2]
            act("start", started, handler)
            resolved = marks[3]
            act("resolve", resolved, handler, note=result)
            case.resolved_at, case.resolved_level = resolved, level
            closed = min(marks[4], due - timedelta(hours=2))
            act("close", closed, secretary or local, note=result)
            case.closed_at, case.resolution, case.level_due_at, case.yellow_at = closed, result, None, None
            fu_at = closed + timedelta(hours=rng.uniform(24, 24 * 8))
            if fu_at < now:
                sat = Satisfaction.SATISFIED if rng.random() < 0.9 else Satisfaction.BASIC
                case.satisfaction = sat
                follow = FollowUp(at=fu_at, satisfaction=sat, note="群众对处理结果表示满意" if sat == Satisfaction.SATISFIED
                                  else "群众基本认可处理结果", by=secretary or local)  # fmt: skip
                events.append(CaseEvent(at=fu_at, actor=secretary or local, action="follow_up", from_status=case.status,
                                        to_status=case.status, from_level=case.level, to_level=case.level,
                                        note=Satisfaction(sat).label, data={"satisfaction": sat}))  # fmt: skip
            assert closed < now, (closed, now)
        stories.append((prob, case, events, follow))
    Case.objects.bulk_create([s[1] for s in stories], batch_size=500)
    events, follows = [], []
    for prob, case, evs, follow in stories:
        prob.case_id = case.pk
        for e in evs:
            e.case_id = case.pk
            events.append(e)
        if follow is not None:
            follow.case_id = case.pk
            follows.append(follow)
        case.created_at = case.received_at
    CaseEvent.objects.bulk_create(events, batch_size=2000)
    FollowUp.objects.bulk_create(follows, batch_size=1000)
    Case.objects.bulk_update([s[1] for s in stories], ["created_at"], batch_size=1000)
    Problem.objects.bulk_update([s[0] for s in stories], ["case_id"], batch_size=1000)
    for prob in problems:
        prob.created_at = prob.visit.created_at
    Problem.objects.bulk_update(problems, ["created_at"], batch_size=1000)
    return len(stories)


# --- recognitions -----------------------------------------------------------------------------
def _recognitions(b: _Baitafan) -> dict:
    rng = b.rng
    rows = []
    staff = [c for c in b.township if c.user_id is None and b.serving(c, YEAR)]
    civil = next(
        c for c in staff if c.establishment == Establishment.CIVIL_SERVICE and age_on(c.birth_date, AFTER) < 35
    )
    serving_village = [c for code, _ in b.villages for c in b.village_current[code]]
    village_targets = [c for c in serving_village if c.user_id is None]
    targets = rng.sample([c for c in staff if c is not civil], 8) + rng.sample(village_targets, 14)
    days = _days(date(YEAR, 1, 10), date(YEAR, 12, 25))
    for n, cadre in enumerate(sorted(targets, key=lambda c: rng.random()), start=1):
        rows.append(Recognition(area_code=cadre.area_code, kind=RecognitionKind.CRITICISM, target=RecognitionTarget.CADRE,
                                cadre=cadre, issued_on=sorted(days)[n * len(days) // 23], issuer=ISSUER_TOWNSHIP,
                                document_no=f"白党〔{YEAR}〕{10 + n * 3}号", reason=rng.choice(CRITICISM_REASONS)))  # fmt: skip
    for n, unit in enumerate(COMMENDED_UNITS, start=1):
        rows.append(Recognition(area_code=BAITAFAN, kind=RecognitionKind.COMMENDATION, target=RecognitionTarget.UNIT,
                                unit_name=unit, issued_on=date(YEAR, 12, 28), issuer=ISSUER_BOTH,
                                document_no=f"白党〔{YEAR}〕{90 + n}号",
                                reason="在“连心工程”“四联四帮”工作中积极配合，帮助群众解决急难愁盼问题"))  # fmt: skip
    rows.append(Recognition(area_code=BAITAFAN, kind=RecognitionKind.HONOUR, target=RecognitionTarget.CADRE, cadre=civil,
                            title="最美公务员", issued_on=date(YEAR, 9, 28), issuer="中共金寨县委 金寨县人民政府",
                            document_no=f"金发〔{YEAR}〕21号", reason="扎根基层、连心为民，走访群众解决急难愁盼问题成效突出"))  # fmt: skip
    village_best = b.secretary.get(DAGANG) or b.secretary[b.villages[0][0]]
    rows.append(Recognition(area_code=village_best.area_code, kind=RecognitionKind.HONOUR, target=RecognitionTarget.CADRE,
                            cadre=village_best, title="最美村干部", issued_on=date(YEAR, 10, 12), issuer="中共金寨县委组织部",
                            document_no=f"金组〔{YEAR}〕48号", reason="带领村“两委”发展茶产业，村集体经济稳步增长"))  # fmt: skip
    if b.today.year > YEAR:  # a few this year too
        this_year = _days(date(b.today.year, 1, 10), b.today)
        for n, cadre in enumerate(rng.sample(village_targets, min(3, len(village_targets))), start=1):
            if this_year:
                rows.append(Recognition(area_code=cadre.area_code, kind=RecognitionKind.CRITICISM,
                                        target=RecognitionTarget.CADRE, cadre=cadre, issued_on=rng.choice(this_year),
                                        issuer=ISSUER_TOWNSHIP, document_no=f"白党〔{b.today.year}〕{n * 7}号",
                                        reason=rng.choice(CRITICISM_REASONS)))  # fmt: skip
    Recognition.objects.bulk_create(rows)
    return {"recognitions": len(rows)}


# --- 四个一, lectures, commitments, mentorships, secondments ------------------------------------------
def _growth(b: _Baitafan) -> dict:
    rng, today = b.rng, b.today
    years = [YEAR] + ([today.year] if today.year > YEAR else [])
    grad = next((c for code in b.village_current for c in b.village_current[code]
                 if c.user_id and c.user.username == "liuchong_grid1"), None)  # fmt: skip
    items, lectures, attendees = [], [], []
    for year in years:
        young = [c for c in b.township if age_on(c.birth_date, date(year, 1, 1)) < 35 and b.serving(c, year)]
        if grad is not None:
            young.append(grad)
        last_month = 12 if year < today.year else today.month - 1
        for c in young:

            def add(kind, day, title, c=c, year=year):
                if day < today:
                    items.append(FourOnes(cadre=c, year=year, kind=kind, done_on=day, title=title))

            add(FourOnesKind.SYMPOSIUM, date(year, 5, 4), f"{year}年“五四”青年干部座谈会")
            add(FourOnesKind.BOOK, date(year, 4, 23), f"获赠{rng.choice(BOOKS)}")
            if rng.random() < 0.8:
                add(FourOnesKind.SPEECH, date(year, 6, 28), f"{year}年“我为群众办实事”演讲比赛")
            missing = set(rng.sample(range(1, 13), rng.choice((0, 0, 1, 1, 2, 3))))
            for month in range(1, last_month + 1):
                if month not in missing:
                    add(FourOnesKind.ARTICLE, date(year, month, rng.randint(18, 28)), f"{month}月工作心得")
        for month, speaker_title, topic in LECTURES:
            held = date(year, month, 15)
            if held >= today:
                continue
            speaker = next(c for c, t in b.leaders if t == speaker_title)
            lecture = Lecture(area_code=BAITAFAN, held_on=held, speaker=speaker.name, topic=topic)
            lectures.append(lecture)
            attendees.append((lecture, [c for c in young if rng.random() < 0.85]))
    FourOnes.objects.bulk_create(items, batch_size=1000)
    Lecture.objects.bulk_create(lectures)
    through = Lecture.attendees.through
    through.objects.bulk_create(
        [through(lecture_id=lec.pk, cadre_id=c.pk) for lec, people in attendees for c in people], batch_size=1000
    )
    # 承诺践诺: leaders and village secretaries
    promises = ["为群众办实事不少于10件", "走访联系户每季度至少一次", "年内化解信访积案1件", "协调解决组级道路硬化",
                "推动村集体经济增收5万元", "完成人居环境整治提升"]  # fmt: skip
    commitments = []
    promisers = [c for c, _ in b.leaders] + list(b.secretary.values())
    for i, c in enumerate(promisers):
        commitments.append(Commitment(cadre=c, promise=promises[i % len(promises)], deadline=date(YEAR, 12, 31),
                                      fulfilled_on=date(YEAR, 11, 1 + i % 28), note="已兑现"))  # fmt: skip
        if today.year > YEAR:
            deadline = today + timedelta(days=(i % 9 - 3) * 20)
            done = i % 4 == 0 and deadline < today - timedelta(days=3)
            commitments.append(Commitment(cadre=c, promise=promises[(i + 2) % len(promises)], deadline=deadline,
                                          fulfilled_on=deadline - timedelta(days=2) if done else None,
                                          note="已兑现" if done else ""))  # fmt: skip
    Commitment.objects.bulk_create(commitments)
    # 结对子: leaders with young cadres; 刘德山 with 陈秀珍
    young_now = [c for c in b.township if age_on(c.birth_date, AFTER) < 35 and c.user_id is None]
    leaders = [c for c, _ in b.leaders]
    mentorships = [Mentorship(mentor=leaders[i % len(leaders)], mentee=m, start=date(2021, 9, 1),
                              end=date(2022, 8, 31) if i % 2 else None, notes="每月谈心谈话一次，指导群众工作方法")
                   for i, m in enumerate(young_now[:8])]  # fmt: skip
    if grad is not None and b.secretary.get(LIUCHONG) is not None:
        mentorships.append(Mentorship(mentor=b.secretary[LIUCHONG], mentee=grad, start=CONTACTS_START,
                                      notes="老带新：一起入户走访、主持板凳会"))  # fmt: skip
    Mentorship.objects.bulk_create(mentorships)
    secondments = [Secondment(cadre=young_now[-1 - i], to_where=to, post=post, start=date(YEAR, 3 + i * 2, 1),
                              end=date(YEAR, 8 + i * 2, 28)) for i, (to, post) in enumerate(SECONDMENTS)]  # fmt: skip
    Secondment.objects.bulk_create(secondments)
    return {"four_ones": len(items), "lectures": len(lectures), "commitments": len(commitments),
            "mentorships": len(mentorships), "secondments": len(secondments)}  # fmt: skip
