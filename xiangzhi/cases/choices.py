from django.db import models


class Kind(models.TextChoices):
    PETITION = "petition", "信访"
    DISPUTE = "dispute", "矛盾纠纷"
    NEED = "need", "急难愁盼"


class Channel(models.TextChoices):
    WALK_IN = "walk_in", "来访"
    LETTER = "letter", "来信"
    ONLINE = "online", "网上"
    GRID_REPORT = "grid_report", "网格上报"
    VISIT = "visit", "走访发现"
    HOTLINE = "hotline", "热线"


class Level(models.TextChoices):
    GRID = "grid", "网格"
    VILLAGE = "village", "村"
    TOWNSHIP = "township", "镇"


LEVEL_ORDER = [Level.GRID, Level.VILLAGE, Level.TOWNSHIP]


class Status(models.TextChoices):
    REGISTERED = "registered", "已登记"
    ACCEPTED = "accepted", "已受理"
    ASSIGNED = "assigned", "已交办"
    IN_PROGRESS = "in_progress", "办理中"
    RESOLVED = "resolved", "已化解"
    UNRESOLVED = "unresolved", "未化解"
    CLOSED = "closed", "已办结"
    NOT_ACCEPTED = "not_accepted", "不予受理"
    TRANSFERRED = "transferred", "已转办"


OPEN_STATUSES = [Status.REGISTERED, Status.ACCEPTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.RESOLVED,
                 Status.UNRESOLVED]
ENDED_STATUSES = [Status.CLOSED, Status.NOT_ACCEPTED, Status.TRANSFERRED]


class Supervision(models.TextChoices):
    NORMAL = "normal", "正常"
    YELLOW = "yellow", "黄牌督办"
    RED = "red", "红牌督办"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", "满意"
    BASIC = "basic", "基本满意"
    UNSATISFIED = "unsatisfied", "不满意"


class MeetingKind(models.TextChoices):
    TOPIC = "topic", "专题会"
    ON_SITE = "on_site", "现场会"
    GROUP = "group", "小组会"
    SECRETARY_TALK = "secretary_talk", "书记约谈"


class MediationResult(models.TextChoices):
    SUCCESS = "success", "调解成功"
    FAILURE = "failure", "调解不成功"


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", "申请人"
    RESPONDENT = "respondent", "被申请人"
    OTHER = "other", "其他当事人"


DEFAULT_CATEGORIES = [
    ("land", "土地", ["land_contract", "homestead", "land_requisition"]),
    ("neighbour", "邻里", []),
    ("family", "婚姻家庭", []),
    ("forest", "山林", []),
    ("labour", "劳资", []),
    ("environment", "环境", []),
    ("road", "道路", []),
    ("medical", "就医", []),
    ("school", "就学", []),
    ("housing", "住房", []),
    ("water", "饮水", []),
    ("other", "其他", []),
]
SUB_CATEGORY_NAMES = {"land_contract": "土地承包", "homestead": "宅基地", "land_requisition": "征地拆迁"}
