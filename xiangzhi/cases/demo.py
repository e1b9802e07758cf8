"""Demo cases: 白塔畈镇 as the articles describe it, from 2022 to today.

``load_cases_demo()`` is called at the end of ``manage.py load_demo`` (after the shipped
regions, the grids, the demo households and the demo accounts). It is idempotent — a
second run finds the demo cases (``Case.source == "demo"``) and writes nothing — and
deterministic: the same seed and the same day give the same cases.

What it makes:

* the default category tree (``config.categories_ensure_defaults``);
* four more fictional accounts (password ``Demo@2026xz``), listed in ``EXTRA_USERS``:
  ``baitafan_shuji`` 储国华, the 镇党委书记 who leads (包案) most petitions (role
  township_staff — 包案 needs no more); ``baitafan_mediator`` 方德林, mediator of the
  township's people's mediation committee; ``baitafan_cadre1`` 詹志平 and
  ``baitafan_cadre2`` 金秀芳, 包村干部 (township_staff) who handle cases in the ten villages
  that have no demo secretary account (even / odd villages);
* history, month by month from January 2022 until about two months ago: some 55 disputes
  (矛盾纠纷) a year across the 12 villages — every one mediated successfully, resolved
  mostly at the level that accepted it (high 一次化解率), closed, followed up (mostly 满意);
  about a dozen petitions (信访) a year, each led by a township leader (包案) with the four
  fixes, meetings (专题会 / 书记约谈) and a statutory 60-day clock; two dozen urgent needs
  (急难愁盼). No skip-level petition (越级访) is on record, so "连续 N 个月无越级访" counts
  from January 2022;
* open cases relative to today so that the work queues are alive: in 刘冲村 a new dispute
  and a yellow one in grid 1 (liuchong_grid1), a petition in grid 1 whose 15-day
  acceptance limit has passed (red), a need whose handling limit has passed (red; the
  escalation job will move it up to the village), a petition led by the 党委书记 that is
  past its 60 days (red, liuchong_secretary), a yellow dispute escalated from grid 2 and a
  need of liuchong_villager's household; in 大岗村 a dispute in progress, a petition to
  accept, a resolved dispute waiting to be closed (with its mediation agreement) and one
  escalated to the township under yellow supervision.

History is written with bulk inserts, not through the services (hundreds of cases in well
under the 15 s budget), but each case is walked through the workflow table
(``workflow.target``) so that its fields and its ``CaseEvent`` timeline are what the
services would have produced: register → accept → assign (four fixes) → start →
[meetings] → mediation → [escalate → assign → start → mediation] → resolve → close →
follow-up. Backfilled history writes **no audit rows** for these steps (nobody performed
them in this system); one ``cases.demo_load`` audit event records the load itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from xiangzhi import audit
from xiangzhi.core import crypto, periods
from xiangzhi.core import demo as core_demo

from . import deadlines, workflow
from .choices import Kind, Level, MediationResult, Satisfaction, Status, Supervision
from .models import Case, CaseEvent, CaseParty, Category, FollowUp, Mediation, Meeting

SEED = core_demo.DEMO_SEED
SOURCE = "demo"
TOWNSHIP = core_demo.BAITAFAN
LIUCHONG = core_demo.LIUCHONG
DAGANG = core_demo.DAGANG
GRID1 = core_demo.LIUCHONG_GRID1
FIRST_MONTH = date(2022, 1, 1)
HISTORY_LAG_DAYS = 60  # history stops this long before today (every story is over by then)

EXTRA_USERS = (
    ("baitafan_shuji", "储国华", "township_staff", TOWNSHIP),  # 镇党委书记
    ("baitafan_mediator", "方德林", "mediator", TOWNSHIP),  # 镇人民调解委员会调解员
    ("baitafan_cadre1", "詹志平", "township_staff", TOWNSHIP),  # 包村干部（偶数序号的村）
    ("baitafan_cadre2", "金秀芳", "township_staff", TOWNSHIP),  # 包村干部（奇数序号的村）
)

# Yearly volumes for the township (disputes are spread over 12 months).
DISPUTES_PER_YEAR = {2022: 56, 2023: 58, 2024: 55, 2025: 54}
DISPUTES_PER_MONTH_LATER = 4
PETITIONS_PER_YEAR = 12
NEEDS_PER_YEAR = 24
VILLAGE_WEIGHT = {LIUCHONG: 3, DAGANG: 2}  # the rest weigh 1

# (category code, title, facts, plan, resolution / agreement terms)
DISPUTES = [
    ("neighbour", "邻里排水沟走向纠纷", "两户因房前排水沟改道发生争执，雨天积水流入邻户院内。",
     "组织双方现场查看，按原走向恢复排水沟。", "双方同意按原走向恢复排水沟，费用各半承担，三日内完工。"),
    ("neighbour", "邻里滴水檐纠纷", "一户新建房屋屋檐滴水落入邻户院墙，双方多次争吵。",
     "现场查看，协商加装檐沟。", "建房户加装檐沟并将落水管引至自家院内，邻户不再追究。"),
    ("homestead", "宅基地界址纠纷", "建房放样时对相邻宅基地界址有争议，施工停滞。",
     "调阅宅基地审批资料，现场测量确认界址。", "以审批图为准重新放线，双方在界址确认书上签字，施工恢复。"),
    ("land_contract", "土地承包经营权纠纷", "二轮延包后一块责任田的经营权双方各执一词。",
     "查阅延包台账，召集组长、老党员核实。", "以延包台账为准，经营权归申请人，被申请人当季收成后交还。"),
    ("forest", "山林权属纠纷", "两户对交界处一片杉木林的权属各执一词，一方已砍伐数棵。",
     "查阅林权证，组织双方及四邻现场指界。", "以林权证四至为准，砍伐一方按市价补偿，双方在界址处栽桩。"),
    ("family", "赡养老人纠纷", "兄弟三人就母亲赡养费和照料分担发生矛盾，老人向村里求助。",
     "召开家庭会议，书记约谈三兄弟。", "三兄弟每人每月支付赡养费300元，轮流照料，每月5日前付清。"),
    ("family", "婚姻家庭矛盾", "夫妻因外出务工收入分配长期争吵，一方提出离婚。",
     "妇联、调委会联合调解。", "双方同意共同管理家庭收入，撤回离婚申请，村妇联定期回访。"),
    ("labour", "务工工资拖欠纠纷", "村民在本地建筑工地务工，工程结束后工资未结清。",
     "联系包工负责人核对工时，督促结清。", "包工负责人核对工时后一次性结清工资，当场签收。"),
    ("land", "土地流转租金纠纷", "流转大户延迟支付土地租金，农户要求收回土地。",
     "召集流转双方核对合同，协商支付期限。", "流转方十日内付清当年租金，今后每年12月底前支付，合同继续履行。"),
    ("road", "修路占地补偿纠纷", "组级道路拓宽占用部分农户菜地，补偿标准有争议。",
     "对照补偿标准，现场丈量占地面积。", "按实测面积和村民小组会议确定的标准补偿，农户同意让地。"),
    ("environment", "养殖异味纠纷", "养殖户猪舍靠近邻居住房，夏季异味、蚊蝇影响生活。",
     "环保、畜牧人员现场查看，提出整改办法。", "养殖户建设化粪池并定期清运，缩减存栏，邻户不再投诉。"),
    ("neighbour", "邻里通行纠纷", "一户在共用通道上堆放柴草，邻户出行不便。",
     "现场协商，清理通道。", "堆放户三日内清走柴草，通道保持畅通，双方和好。"),
]  # fmt: skip
PETITIONS = [
    ("land_requisition", "征地补偿款发放问题", "反映高速公路征地补偿款中青苗补偿未足额发放。",
     "核对征地台账和发放清单，向县自然资源局核实。", "经核实补差款已拨付到账，向信访人出具书面答复，信访人认可。"),
    ("housing", "危房改造补助申请问题", "反映房屋墙体开裂，申请危房改造未获批准。",
     "组织住建部门入户鉴定，对照政策答复。", "经鉴定为C级危房，已纳入当年改造计划，补助按进度拨付。"),
    ("medical", "大病医疗报销问题", "反映家人住院费用报销比例偏低，生活困难。",
     "对接医保、民政部门，核实报销和救助政策。", "落实医疗救助和临时救助，帮助申请大病保险二次报销。"),
    ("road", "组级道路硬化诉求", "反映本组道路雨天泥泞，群众出行和农产品外运困难。",
     "现场勘查，纳入村级项目库。", "已纳入下一年度村级道路硬化项目，施工计划向群众公示。"),
    ("labour", "外出务工工伤赔偿问题", "反映在外地务工受伤，用工方拒绝赔偿。",
     "联系用工所在地劳动监察和法律援助。", "经法律援助律师协助，用工方一次性支付赔偿金，信访人满意。"),
    ("land_contract", "土地确权面积异议", "反映确权登记面积少于实际承包面积。",
     "调阅确权资料，组织实地复测。", "实地复测后更正确权面积，换发证书。"),
]  # fmt: skip
NEEDS = [
    ("water", "饮水管道破裂，全组停水", "组里自来水主管道冬季冻裂，十余户停水。",
     "联系水务站抢修，临时送水。", "水务站当日抢修恢复供水，对裸露管道加装保温层。"),
    ("road", "桥面护栏损坏存在安全隐患", "村口小桥护栏被车辆撞坏，学生上下学经过有危险。",
     "设置警示标志，报交通部门维修。", "已设置警示标志并更换护栏。"),
    ("medical", "独居老人就医出行困难", "独居老人患慢性病，每月需到镇卫生院取药，出行不便。",
     "安排网格员代购药品，联系家庭医生。", "签约家庭医生每月上门随访，网格员协助代购药品。"),
    ("school", "留守儿童转学手续", "留守儿童随祖父母返乡，需办理转学入学。",
     "联系中心学校，协助准备材料。", "已在镇中心小学办理入学手续。"),
    ("housing", "雨后房屋漏雨需修缮", "脱贫户老房屋顶瓦片破损，雨后室内漏雨。",
     "组织志愿者修缮，申请临时救助。", "志愿者翻修屋顶，更换破损瓦片。"),
    ("environment", "垃圾收集点清运不及时", "组里垃圾收集点清运不及时，气味大。",
     "对接保洁公司，调整清运频次。", "保洁公司改为每日清运，增设垃圾桶。"),
]  # fmt: skip
MEDIATION_PLACES = ("村调委会调解室", "村便民服务中心", "当事人家中", "现场")
SAT_NOTES = {Satisfaction.SATISFIED: "群众对处理结果表示满意", Satisfaction.BASIC: "群众基本认可处理结果"}


# --- a case walked through the workflow table ------------------------------------------------
@dataclass
class _Story:
    case: Case
    events: list = field(default_factory=list)
    meetings: list = field(default_factory=list)
    mediations: list = field(default_factory=list)  # (Mediation, [users])
    follow_ups: list = field(default_factory=list)
    parties: list = field(default_factory=list)

    def _log(self, action, at, actor, before, note="", public=True, **data):
        c = self.case
        self.events.append(
            CaseEvent(at=at, actor=actor, action=action, from_status=before[0], to_status=c.status,
                      from_level=before[1], to_level=c.level, note=note, public=public, data=data)
        )  # fmt: skip

    def act(self, action, at, actor, note="", public=True, **data):
        """One transition exactly as the workflow table allows it."""
        c = self.case
        before = (c.status, c.level)
        c.status = workflow.target(c.status, action)
        self._log(action, at, actor, before, note, public, **data)

    def record(self, action, at, actor, note="", public=True, **data):
        """A step that is not a transition (meeting, mediation, follow-up …)."""
        self._log(action, at, actor, (self.case.status, self.case.level), note, public, **data)


def _level_clock(case: Case, since: datetime) -> None:
    case.level_since = since
    case.level_due_at = deadlines.level_due(township_code=TOWNSHIP, kind=case.kind, level=case.level, since=since)


def _yellow(case: Case) -> None:
    """As services._refresh_yellow does with the default 70 % share."""
    if case.status == Status.REGISTERED and case.kind == Kind.PETITION:
        case.yellow_at = deadlines.yellow_at(case.received_at, case.accept_due_at)
        return
    dues = [d for d in (case.level_due_at, case.due_at) if d]
    if not dues:
        case.yellow_at = None
        return
    due = min(dues)
    since = (
        case.level_since if case.level_due_at and due == case.level_due_at else (case.accepted_at or case.received_at)
    )
    case.yellow_at = deadlines.yellow_at(since, due)


class _Builder:
    def __init__(self, *, rng: random.Random, now: datetime, people: dict, villages: list, households: dict,
                 categories: dict, grids: dict):  # fmt: skip
        self.rng = rng
        self.now = now
        self.people = people
        self.villages = villages
        self.households = households
        self.categories = categories
        self.grids = grids
        self.stories: list[_Story] = []
        self.codes: set[str] = set()
        self.phone_seq = 800_000
        self.agreement_seq: dict[int, int] = {}
        self.own_household = households.pop("villager", None)  # liuchong_villager's household

    # --- helpers --------------------------------------------------------------------------
    def tracking_code(self) -> str:
        from .services import TRACKING_ALPHABET

        while True:
            code = "".join(self.rng.choice(TRACKING_ALPHABET) for _ in range(10))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def local_people(self, village: str) -> dict:
        """Who acts for a village: its secretary (刘冲村, 大岗村) or the 包村干部."""
        p = self.people
        if village == LIUCHONG:
            return {"local": p["liuchong_secretary"], "first": p["liuchong_secretary"]}
        if village == DAGANG:
            return {"local": p["dagang_secretary"], "first": p["dagang_secretary"]}
        index = [v for v, _ in self.villages].index(village)
        return {"local": p["baitafan_cadre1" if index % 2 == 0 else "baitafan_cadre2"], "first": None}

    def at(self, day: date, lo: int = 8, hi: int = 18) -> datetime:
        minutes = self.rng.randrange(lo * 60, hi * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=periods.TZ)

    def later(self, start: datetime, lo_hours: float, hi_hours: float) -> datetime:
        """A working-hours moment lo–hi hours after ``start``."""
        t = start + timedelta(hours=self.rng.uniform(lo_hours, hi_hours))
        local = t.astimezone(periods.TZ)
        if local.hour < 8:
            t = local.replace(hour=8, minute=self.rng.randrange(60))
        elif local.hour >= 18:
            t = (local + timedelta(days=1)).replace(hour=8, minute=self.rng.randrange(60))
        return t

    def pick_household(self, village: str, exclude=None):
        rows = [h for h in self.households.get(village, []) if h["id"] != exclude]
        return self.rng.choice(rows) if rows else None

    def contact(self, case: Case, household) -> None:
        case.household_id = household["id"] if household else None
        case.contact_name = household["head_name"] if household else "（未留姓名）"
        self.phone_seq += 1
        phone = core_demo.fake_phone(self.phone_seq)
        case.contact_phone_enc = crypto.encrypt(phone)
        case.contact_phone_last4_hash = crypto.blind_index(phone[-4:], "case_phone_last4")

    def parties_for(self, story: _Story, household, respondent=None) -> None:
        if household:
            story.parties.append(CaseParty(name=household["head_name"], role="applicant",
                                           resident_id=household.get("head_id")))  # fmt: skip
        if respondent:
            story.parties.append(CaseParty(name=respondent["head_name"], role="respondent",
                                           resident_id=respondent.get("head_id")))  # fmt: skip

    def agreement_no(self, held_at: datetime) -> str:
        year = held_at.astimezone(periods.TZ).year
        self.agreement_seq[year] = self.agreement_seq.get(year, 0) + 1
        return f"{TOWNSHIP}-{year}-{self.agreement_seq[year]:04d}"

    # --- one story --------------------------------------------------------------------------
    def new_case(self, *, kind, channel, area, template, received, household, created_by, first) -> _Story:
        cat, title, facts, _plan, _result = template
        case = Case(
            area_code=area, kind=kind, channel=channel, category_id=self.categories.get(cat), title=title,
            description=facts, tracking_code=self.tracking_code(), status=Status.REGISTERED,
            level=Level.GRID if len(area) == 15 else Level.VILLAGE, received_at=received, first_responsible=first,
            created_by=created_by, source=SOURCE,
        )  # fmt: skip
        self.contact(case, household)
        if kind == Kind.PETITION:
            case.accept_due_at = deadlines.petition_accept_due(received)
        else:
            _level_clock(case, received)
        _yellow(case)
        story = _Story(case)
        story._log("register", received, created_by, ("", ""), channel=channel)
        self.stories.append(story)
        return story

    def accept(self, story: _Story, at: datetime, actor) -> None:
        c = story.case
        story.act("accept", at, actor)
        c.accepted_at = at
        c.accepted_level = c.level
        if c.kind == Kind.PETITION:
            c.due_at = deadlines.petition_handle_due(at)
        _yellow(c)

    def assign(self, story: _Story, at: datetime, actor, *, lead, handler, plan: str, due: datetime) -> None:
        c = story.case
        c.lead, c.handler = lead, handler
        c.responsibility = f"{handler.full_name}负责具体办理，{lead.full_name}包案督导，{'按期化解' if c.kind != Kind.PETITION else '依法按期答复'}"
        c.plan, c.due_at = plan, due
        story.act("assign", at, actor, note=f"包案领导：{lead}；承办人：{handler}", lead_id=lead.pk,
                  handler_id=handler.pk, due_at=due.isoformat())  # fmt: skip
        _yellow(c)

    def escalate(self, story: _Story, at: datetime, actor, reason: str) -> None:
        c = story.case
        before = (c.status, c.level)
        c.status = workflow.target(c.status, "escalate")
        c.level = workflow.level_above(c.level)
        c.escalation_count += 1
        c.handler = None
        if c.kind != Kind.PETITION:
            _level_clock(c, at)
        _yellow(c)
        story._log("escalate", at, actor, before, note=reason, auto=False)

    def mediate(self, story: _Story, at: datetime, actor, mediators: list, template, result=MediationResult.SUCCESS):
        c = story.case
        _cat, _title, facts, _plan, terms = template
        m = Mediation(
            case=c, held_at=at, place=self.rng.choice(MEDIATION_PLACES),
            mediator_names="、".join(u.full_name for u in mediators), result=result, facts=facts, terms=terms,
            agreement_no=self.agreement_no(at) if result == MediationResult.SUCCESS else "", created_by=actor,
        )  # fmt: skip
        story.mediations.append((m, mediators))
        story.record("mediation", at, actor, note=m.get_result_display(), result=result, _obj=m)

    def meeting(self, story: _Story, at: datetime, actor, kind: str, place: str, participants: str, minutes: str):
        m = Meeting(case=story.case, kind=kind, held_at=at, place=place, participants=participants, minutes=minutes,
                    created_by=actor)  # fmt: skip
        story.meetings.append(m)
        story.record("meeting", at, actor, note=f"{m.get_kind_display()}：{place}", kind=kind, _obj=m)

    def resolve(self, story: _Story, at: datetime, actor, note: str) -> None:
        c = story.case
        story.act("resolve", at, actor, note=note)
        c.resolved_at = at
        c.resolved_level = c.level

    def close(self, story: _Story, at: datetime, actor, resolution: str) -> None:
        c = story.case
        story.act("close", at, actor, note=resolution)
        c.closed_at = at
        c.resolution = resolution
        c.level_due_at = None
        c.yellow_at = None

    def follow_up(self, story: _Story, at: datetime, actor) -> None:
        sat = Satisfaction.SATISFIED if self.rng.random() < 0.86 else Satisfaction.BASIC
        story.follow_ups.append(FollowUp(case=story.case, at=at, satisfaction=sat, note=SAT_NOTES[sat], by=actor))
        story.case.satisfaction = sat
        story.record("follow_up", at, actor, note=Satisfaction(sat).label, satisfaction=sat)

    # --- history --------------------------------------------------------------------------------
    def village(self) -> str:
        codes = [v for v, _ in self.villages]
        return self.rng.choices(codes, weights=[VILLAGE_WEIGHT.get(c, 1) for c in codes])[0]

    def closed_story(self, kind: str, received: datetime) -> None:
        p = self.people
        rng = self.rng
        village = self.village()
        who = self.local_people(village)
        local = who["local"]
        grid_case = village == LIUCHONG and kind != Kind.PETITION and rng.random() < 0.45
        area = GRID1 if grid_case else village
        handler = p["liuchong_grid1"] if grid_case else local
        if kind == Kind.DISPUTE:
            template = rng.choice(DISPUTES)
            channel = rng.choice(["grid_report", "grid_report", "walk_in", "visit", "hotline"])
        elif kind == Kind.PETITION:
            template = rng.choice(PETITIONS)
            channel = rng.choice(["walk_in", "walk_in", "letter", "online", "hotline"])
        else:
            template = rng.choice(NEEDS)
            channel = rng.choice(["visit", "grid_report", "grid_report", "hotline", "online"])
        household = self.pick_household(village)
        registrar = p["baitafan_admin"] if (kind == Kind.PETITION and channel in ("walk_in", "letter")) else handler
        story = self.new_case(kind=kind, channel=channel, area=area, template=template, received=received,
                              household=household, created_by=registrar, first=who["first"])  # fmt: skip
        respondent = self.pick_household(village, exclude=household["id"] if household else None)
        self.parties_for(story, household, respondent if kind == Kind.DISPUTE else None)
        c = story.case
        # accept: the same day for disputes and needs; within the 15 days for petitions
        accepted = self.later(received, 24, 24 * 9) if kind == Kind.PETITION else self.later(received, 0.5, 20)
        self.accept(story, accepted, handler)
        if kind == Kind.PETITION:
            lead = p["baitafan_shuji"] if rng.random() < 0.6 else p["baitafan_admin"]
            due = deadlines.petition_handle_due(accepted)
        else:
            lead = who["first"] or (p["baitafan_shuji"] if rng.random() < 0.3 else p["baitafan_admin"])
            due = periods.deadline(accepted, 7 if grid_case else 15)
        assigner = p["liuchong_secretary"] if grid_case else local
        assigned = self.later(accepted, 0.5, 6)
        self.assign(story, assigned, assigner, lead=lead, handler=handler, plan=template[3], due=due)
        started = self.later(assigned, 1, 24)
        story.act("start", started, handler)
        t = started
        escalate = rng.random() < (0.2 if kind == Kind.PETITION else 0.07 if kind == Kind.DISPUTE else 0)
        if kind == Kind.PETITION:
            t = self.later(t, 24 * 3, 24 * 10)
            self.meeting(story, t, lead, "topic" if rng.random() < 0.6 else "secretary_talk", "镇综治中心会议室",
                         f"{lead.full_name}、{handler.full_name}、信访人及相关部门", "研究化解方案，明确责任分工和答复时限。")  # fmt: skip
        if escalate:
            t = self.later(t, 24 * 2, 24 * 5)
            self.escalate(story, t, handler, f"{Level(c.level).label}级多次协调未果，报请上级调处")
            t = self.later(t, 2, 24)
            if c.level == Level.VILLAGE:  # 刘冲村 grid 1 → the village
                lead = handler = assigner = p["liuchong_secretary"]
            else:
                lead, assigner = p["baitafan_shuji"], p["baitafan_admin"]
                handler = p["baitafan_mediator"] if kind == Kind.DISPUTE else p["baitafan_admin"]
            due = c.due_at if kind == Kind.PETITION else max(due, periods.deadline(t, 15))
            self.assign(story, t, assigner, lead=lead, handler=handler, plan=template[3], due=due)
            t = self.later(t, 1, 12)
            story.act("start", t, handler)
        if kind == Kind.DISPUTE or (kind == Kind.PETITION and rng.random() < 0.25):
            t = self.later(t, 24, 24 * 5)
            mediators = [handler, p["baitafan_mediator"]] if handler.pk != p["baitafan_mediator"].pk else [handler]
            self.mediate(story, t, handler, mediators, template)
            t = self.later(t, 0.2, 3)
        else:
            t = self.later(t, 24, 24 * (20 if kind == Kind.PETITION else 6))
        self.resolve(story, t, handler, template[4])
        closer = (
            p["baitafan_admin"] if c.level == Level.TOWNSHIP else (local if not grid_case else p["liuchong_secretary"])
        )
        closed = self.later(t, 4, 24 * 3)
        if rng.random() < 0.04:  # a few close late
            closed = max(closed, c.due_at + timedelta(days=rng.randint(1, 4)))
        elif closed > c.due_at:
            closed = max(t + timedelta(hours=1), c.due_at - timedelta(hours=3))
        self.close(story, closed, closer, template[4])
        self.follow_up(story, self.later(closed, 24 * 2, 24 * 10), closer)

    def history(self, until: date) -> None:
        day = FIRST_MONTH
        while day < until:
            year, month = day.year, day.month
            end = periods.month(year, month).end
            disputes = DISPUTES_PER_YEAR.get(year, DISPUTES_PER_MONTH_LATER * 12)
            n_d = disputes // 12 + (1 if month <= disputes % 12 else 0)
            n_p = PETITIONS_PER_YEAR // 12
            n_n = NEEDS_PER_YEAR // 12
            days = [date(year, month, d) for d in range(1, (end - day).days + 1)]
            for kind, n in ((Kind.DISPUTE, n_d), (Kind.PETITION, n_p), (Kind.NEED, n_n)):
                for _ in range(n):
                    received_day = self.rng.choice(days)
                    if received_day >= until:
                        continue
                    self.closed_story(kind, self.at(received_day))
            day = end

    # --- open cases, relative to now -------------------------------------------------------------
    def open_cases(self) -> None:
        p = self.people
        today = timezone.localtime(self.now, periods.TZ).date()

        def day(n, hour=9, minute=30):
            return datetime.combine(today - timedelta(days=n), time(hour, minute), tzinfo=periods.TZ)

        lc_sec, dg_sec, grid1 = p["liuchong_secretary"], p["dagang_secretary"], p["liuchong_grid1"]
        grid2 = next((g for g in self.grids.get(LIUCHONG, []) if g != GRID1), GRID1)
        hh = lambda v: self.pick_household(v)  # noqa: E731

        # O1 刘冲村第一网格: a new dispute to accept
        s = self.new_case(kind=Kind.DISPUTE, channel="grid_report", area=GRID1, template=DISPUTES[1],
                          received=self.now - timedelta(hours=3), household=hh(LIUCHONG), created_by=grid1,
                          first=lc_sec)  # fmt: skip
        self.parties_for(s, None)
        # O2 grid 1: a dispute in progress, yellow (grid limit ends tonight)
        s = self.new_case(kind=Kind.DISPUTE, channel="visit", area=GRID1, template=DISPUTES[0], received=day(3),
                          household=hh(LIUCHONG), created_by=grid1, first=lc_sec)  # fmt: skip
        self.accept(s, day(3, 10, 40), grid1)
        self.assign(s, day(3, 15), lc_sec, lead=lc_sec, handler=grid1, plan=DISPUTES[0][3],
                    due=periods.deadline(day(3), 7))  # fmt: skip
        s.act("start", day(2, 9), grid1)
        # O3 grid 1: a letter petition never accepted: its 15-day acceptance limit has passed (red)
        s = self.new_case(kind=Kind.PETITION, channel="letter", area=GRID1, template=PETITIONS[3], received=day(17),
                          household=hh(LIUCHONG), created_by=grid1, first=lc_sec)  # fmt: skip
        # O4 grid 1: a need past its 定时限 (red); the escalation job moves it to the village
        s = self.new_case(kind=Kind.NEED, channel="visit", area=GRID1, template=NEEDS[2], received=day(6),
                          household=hh(LIUCHONG), created_by=grid1, first=lc_sec)  # fmt: skip
        self.accept(s, day(6, 11), grid1)
        self.assign(s, day(6, 16), lc_sec, lead=lc_sec, handler=grid1, plan=NEEDS[2][3],
                    due=periods.deadline(day(6), 5))  # fmt: skip
        s.act("start", day(5, 9), grid1)
        # O5 刘冲村: a petition led by the 党委书记, past its 60 days (red)
        s = self.new_case(kind=Kind.PETITION, channel="walk_in", area=LIUCHONG, template=PETITIONS[0], received=day(70),
                          household=hh(LIUCHONG), created_by=p["baitafan_admin"], first=lc_sec)  # fmt: skip
        self.accept(s, day(68, 10), lc_sec)
        self.assign(s, day(68, 15), p["baitafan_admin"], lead=p["baitafan_shuji"], handler=lc_sec,
                    plan=PETITIONS[0][3], due=s.case.due_at)  # fmt: skip
        s.act("start", day(67), lc_sec)
        self.meeting(s, day(40, 14), p["baitafan_shuji"], "secretary_talk", "刘冲村党群服务中心",
                     f"{p['baitafan_shuji'].full_name}、{lc_sec.full_name}、信访人", "书记约谈信访人，听取诉求，承诺核实补偿台账。")  # fmt: skip
        # O6 刘冲村: a dispute escalated from grid 2 six days ago: yellow at the village
        s = self.new_case(kind=Kind.DISPUTE, channel="grid_report", area=grid2, template=DISPUTES[4], received=day(9),
                          household=hh(LIUCHONG), created_by=lc_sec, first=lc_sec)  # fmt: skip
        self.parties_for(s, hh(LIUCHONG), hh(LIUCHONG))
        self.accept(s, day(9, 11), lc_sec)
        if s.case.level == Level.GRID:
            self.escalate(s, day(6, 9, 0), lc_sec, "网格内协调未果，转村级调处")
        self.assign(s, day(6, 10), lc_sec, lead=lc_sec, handler=lc_sec, plan=DISPUTES[4][3],
                    due=periods.deadline(day(6), 15))  # fmt: skip
        s.act("start", day(6, 14), lc_sec)
        # O7 刘冲村: a need of liuchong_villager's household, assigned
        own = self.own_household
        received = self.now - timedelta(hours=20)
        s = self.new_case(kind=Kind.NEED, channel="online", area=LIUCHONG, template=NEEDS[4], received=received,
                          household=own or hh(LIUCHONG), created_by=None, first=lc_sec)  # fmt: skip
        self.parties_for(s, own)
        self.accept(s, self.now - timedelta(hours=4), lc_sec)
        self.assign(s, self.now - timedelta(hours=3, minutes=30), lc_sec, lead=lc_sec, handler=lc_sec,
                    plan=NEEDS[4][3], due=periods.deadline(self.now, 6))  # fmt: skip
        # O8 大岗村: a dispute in progress
        s = self.new_case(kind=Kind.DISPUTE, channel="walk_in", area=DAGANG, template=DISPUTES[2], received=day(2),
                          household=hh(DAGANG), created_by=dg_sec, first=dg_sec)  # fmt: skip
        self.accept(s, day(2, 11), dg_sec)
        self.assign(s, day(2, 15), dg_sec, lead=dg_sec, handler=dg_sec, plan=DISPUTES[2][3],
                    due=periods.deadline(day(2), 15))  # fmt: skip
        s.act("start", day(1, 9), dg_sec)
        # O9 大岗村: a petition to accept (within its 15 days)
        self.new_case(kind=Kind.PETITION, channel="online", area=DAGANG, template=PETITIONS[2], received=day(3, 16),
                      household=hh(DAGANG), created_by=None, first=dg_sec)  # fmt: skip
        # O10 大岗村: resolved by a successful mediation yesterday, waiting to be closed
        s = self.new_case(kind=Kind.DISPUTE, channel="grid_report", area=DAGANG, template=DISPUTES[5],
                          received=day(5), household=hh(DAGANG), created_by=dg_sec, first=dg_sec)  # fmt: skip
        self.accept(s, day(5, 10), dg_sec)
        self.assign(s, day(5, 14), dg_sec, lead=dg_sec, handler=dg_sec, plan=DISPUTES[5][3],
                    due=periods.deadline(day(5), 15))  # fmt: skip
        s.act("start", day(4, 9), dg_sec)
        self.mediate(s, day(1, 15), dg_sec, [dg_sec, p["baitafan_mediator"]], DISPUTES[5])
        self.resolve(s, day(1, 17), dg_sec, DISPUTES[5][4])
        # O11 大岗村 → 镇: escalated to the township, under yellow supervision
        s = self.new_case(kind=Kind.DISPUTE, channel="walk_in", area=DAGANG, template=DISPUTES[3], received=day(12),
                          household=hh(DAGANG), created_by=dg_sec, first=dg_sec)  # fmt: skip
        self.accept(s, day(12, 10), dg_sec)
        self.assign(s, day(12, 15), dg_sec, lead=dg_sec, handler=dg_sec, plan=DISPUTES[3][3],
                    due=periods.deadline(day(12), 20))  # fmt: skip
        s.act("start", day(11), dg_sec)
        self.escalate(s, day(4), dg_sec, "涉及两个村民小组的土地，村级调处未果，报镇综治中心")
        self.assign(s, day(4, 15), p["baitafan_admin"], lead=p["baitafan_shuji"], handler=p["baitafan_mediator"],
                    plan=DISPUTES[3][3], due=periods.deadline(day(4), 15))  # fmt: skip
        s.act("start", day(3), p["baitafan_mediator"])
        s.case.supervision = Supervision.YELLOW
        s.act(
            "supervise", day(2, 11), p["baitafan_admin"], note="黄牌督办：请加快调处进度", public=False, mark="yellow"
        )


# --- loading ---------------------------------------------------------------------------------
def _ensure_users(out) -> dict:
    from xiangzhi.accounts.models import User
    from xiangzhi.accounts.services import assignment_add, user_create
    from xiangzhi.org.models import Assignment

    for username, full_name, role, area in EXTRA_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(actor=None, username=username, password=core_demo.DEMO_PASSWORD, full_name=full_name,
                               area_code=area)  # fmt: skip
            out(f"  新建演示账号 {username:<18} {full_name}")
        if not Assignment.objects.filter(user=user, area_code=area, role=role).exists():
            assignment_add(actor=None, user=user, area_code=area, role=role)
    needed = [u for u, *_ in core_demo.DEMO_USERS if u != "liuchong_villager"] + [u for u, *_ in EXTRA_USERS]
    people = {u.username: u for u in User.objects.filter(username__in=needed)}
    missing = sorted(set(needed) - set(people))
    if missing:
        raise RuntimeError(f"演示账号缺失：{', '.join(missing)}（请先运行 load_demo 的账号部分）")
    return people


def _households(villages) -> dict:
    from xiangzhi.residents.models import Household, Resident

    codes = [v for v, _ in villages]
    rows = list(
        Household.objects.filter(village_code__in=codes, note=core_demo.DEMO_NOTE)
        .order_by("village_code", "id")
        .values("id", "village_code", "area_code", "head_name")
    )
    heads = dict(
        Resident.objects.filter(household_id__in=[r["id"] for r in rows], relation="head").values_list(
            "household_id", "id"
        )
    )
    out: dict = {}
    for r in rows:
        r["head_id"] = heads.get(r["id"])
        out.setdefault(r["village_code"], []).append(r)
    villager = Resident.objects.filter(user__username="liuchong_villager").values("household_id").first()
    if villager:
        own = next((r for r in out.get(LIUCHONG, []) if r["id"] == villager["household_id"]), None)
        if own:
            out["villager"] = own
    return out


def already_loaded() -> bool:
    return Case.objects.filter(area_code__startswith=TOWNSHIP, source=SOURCE).exists()


def load_cases_demo(*, stdout=None, now: datetime | None = None, seed: int = SEED) -> dict:
    """Load the demo cases of 白塔畈镇 once. Returns counts (all 0 when already loaded)."""
    import time as _time

    from xiangzhi.org.models import Region

    from .config import categories_ensure_defaults

    def out(msg):
        if stdout is not None:
            stdout.write(msg)

    t0 = _time.perf_counter()
    categories_ensure_defaults(actor=None)
    if already_loaded():
        out("事项演示数据：已存在，未作改动")
        return {"cases": 0}
    now = now or timezone.now()
    with transaction.atomic():
        people = _ensure_users(out)
        villages = list(
            Region.objects.filter(parent_id=TOWNSHIP, level="village").order_by("code").values_list("code", "name")
        )
        grids: dict = {}
        for code, parent in Region.objects.filter(parent_id__in=[v for v, _ in villages], level="grid").values_list(
            "code", "parent_id"
        ):
            grids.setdefault(parent, []).append(code)
        for v in grids.values():
            v.sort()
        categories = dict(Category.objects.filter(township_code="").values_list("code", "pk"))
        builder = _Builder(rng=random.Random(f"cases-demo:{seed}"), now=now, people=people, villages=villages,
                           households=_households(villages), categories=categories, grids=grids)  # fmt: skip
        today = timezone.localtime(now, periods.TZ).date()
        builder.history(until=today - timedelta(days=HISTORY_LAG_DAYS))
        builder.open_cases()
        counts = _write(builder.stories, now)
        audit.record(None, "cases.demo_load", ("cases.demo", seed), township=TOWNSHIP, **counts)
    out(
        f"事项演示数据：白塔畈镇 {counts['cases']} 件（其中在办 {counts['open']} 件），办理记录 {counts['events']} 条，"
        f"调解 {counts['mediations']} 次，回访 {counts['follow_ups']} 次；用时 {_time.perf_counter() - t0:.1f} 秒"
    )
    return counts


def _write(stories: list[_Story], now: datetime) -> dict:
    from .choices import OPEN_STATUSES

    cases = [s.case for s in stories]
    for c in cases:
        assert c.received_at <= now, c.title
    Case.objects.bulk_create(cases, batch_size=500)
    meetings, mediations, follow_ups, parties = [], [], [], []
    for s in stories:
        for m in s.meetings:
            m.case_id = s.case.pk
            meetings.append(m)
        for m, _ in s.mediations:
            m.case_id = s.case.pk
            mediations.append(m)
        for f in s.follow_ups:
            f.case_id = s.case.pk
            follow_ups.append(f)
        for party in s.parties:
            party.case_id = s.case.pk
            parties.append(party)
    Meeting.objects.bulk_create(meetings, batch_size=500)
    Mediation.objects.bulk_create(mediations, batch_size=500)
    FollowUp.objects.bulk_create(follow_ups, batch_size=500)
    CaseParty.objects.bulk_create(parties, batch_size=500)
    through = Mediation.mediators.through
    links = [through(mediation_id=m.pk, user_id=u.pk) for s in stories for m, users in s.mediations for u in users]
    through.objects.bulk_create(links, batch_size=1000)
    events = []
    for s in stories:
        for e in s.events:
            e.case_id = s.case.pk
            obj = e.data.pop("_obj", None)
            if isinstance(obj, Meeting):
                e.data = {"meeting_id": obj.pk, **e.data}
            elif isinstance(obj, Mediation):
                e.data = {"mediation_id": obj.pk, **e.data}
            events.append(e)
    CaseEvent.objects.bulk_create(events, batch_size=1000)
    # created_at as the story has it (auto_now_add stamped the load time)
    ids = [c.pk for c in cases]
    Case.objects.filter(pk__in=ids).update(created_at=F("received_at"))
    Meeting.objects.filter(case_id__in=ids).update(created_at=F("held_at"))
    Mediation.objects.filter(case_id__in=ids).update(created_at=F("held_at"))
    return {
        "cases": len(cases),
        "open": sum(1 for c in cases if c.status in OPEN_STATUSES),
        "events": len(events),
        "mediations": len(mediations),
        "meetings": len(meetings),
        "follow_ups": len(follow_ups),
    }
