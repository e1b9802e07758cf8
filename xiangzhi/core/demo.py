"""Fixed vocabularies of the demo data and the scale generator.

Every person the demo (``manage.py load_demo``) or the generator (``manage.py synth``)
creates is fictional, by a visible convention:

* a name is a common surname plus a two-character given name assembled from the fixed
  character lists below (nobody is modelled on a real person, and the few well-known public
  figures these lists could spell are excluded, ``FAMOUS_NAMES``);
* ID numbers carry the 金寨县 prefix ``341524`` and a valid GB 11643 check digit, but the
  birth date and sequence code are random;
* phone numbers come from the fictional block ``19900000000``–``19900999999``
  (``FAKE_PHONE_PREFIX``), never a number somebody was issued on purpose;
* every generated household carries the note ``DEMO_NOTE`` / ``SYNTH_NOTE``.

Pure Python, no Django imports.
"""

from __future__ import annotations

from datetime import date

DEMO_PASSWORD = "Demo@2026xz"
DEMO_SEED = 2026
DEMO_NOTE = "演示数据（人物均为虚构）"
SYNTH_NOTE = "合成数据（规模测试，人物均为虚构）"
FAKE_PHONE_PREFIX = "19900"  # + 6 digits

# Ages are computed against a fixed day so that a seed always gives the same ID numbers.
REFERENCE_DATE = date(2025, 1, 1)

COUNTY = "341524"  # 金寨县
DEMO_TOWNSHIPS = ("341524111", "341524105", "341524208")  # 白塔畈镇, 古碑镇, 果子园乡
BAITAFAN = "341524111"
LIUCHONG = "341524111206"  # 刘冲村
DAGANG = "341524111203"  # 大岗村
LIUCHONG_GRID1 = LIUCHONG + "001"
FEATURED_HEAD = "刘长喜"  # head of the first household of 刘冲村第一网格 (found by "lcx")

GRID_NAMES = ("第一网格", "第二网格", "第三网格", "第四网格", "第五网格", "第六网格")

# Surnames common in western Anhui, most frequent first; weights roughly follow frequency.
SURNAMES = (
    ("刘", 9), ("王", 8), ("陈", 8), ("张", 7), ("汪", 6), ("余", 6), ("李", 6), ("胡", 5),
    ("徐", 5), ("吴", 5), ("周", 4), ("程", 4), ("詹", 4), ("方", 3), ("储", 3), ("金", 3),
    ("朱", 3), ("黄", 3), ("杨", 3), ("许", 3), ("何", 2), ("郑", 2), ("孙", 2), ("罗", 2),
    ("洪", 2), ("漆", 2), ("葛", 2), ("彭", 2), ("江", 2), ("邓", 2), ("童", 2), ("廖", 1),
    ("蔡", 1), ("丁", 1), ("范", 1), ("唐", 1), ("曹", 1), ("袁", 1), ("潘", 1), ("桂", 1),
)  # fmt: skip

# Given names: first character × second character (or the first alone), by sex and by
# generation, so the names look their age. 长 and 喜 are deliberately absent: the only
# 刘长喜 is the featured head.
GIVEN_MALE_OLD = ("德", "明", "国", "建", "志", "文", "永", "家", "守", "加", "传", "广", "世", "发", "正", "其")
GIVEN_MALE_OLD_2 = ("才", "富", "林", "华", "友", "贵", "清", "山", "福", "荣", "胜", "和", "田", "平", "元", "成")
GIVEN_MALE_YOUNG = ("子", "浩", "俊", "宇", "博", "文", "晨", "思", "嘉", "明", "天", "一", "若", "星", "佳", "睿")
GIVEN_MALE_YOUNG_2 = ("轩", "然", "杰", "涛", "豪", "航", "宁", "阳", "鹏", "磊", "凯", "辰", "哲", "毅", "霖", "远")
GIVEN_FEMALE_OLD = ("秀", "桂", "玉", "凤", "兰", "金", "翠", "春", "素", "淑", "美", "红", "月", "爱", "小", "彩")
GIVEN_FEMALE_OLD_2 = ("英", "兰", "珍", "芳", "梅", "华", "云", "琴", "霞", "萍", "莲", "娥", "菊", "荣", "香", "枝")
GIVEN_FEMALE_YOUNG = ("欣", "雨", "诗", "梓", "可", "佳", "思", "紫", "语", "晓", "婉", "静", "安", "心", "一", "梦")
GIVEN_FEMALE_YOUNG_2 = ("怡", "涵", "琪", "萱", "彤", "婷", "璐", "悦", "妍", "蕾", "晴", "瑶", "颖", "雪", "洁", "雯")

# Well-known public figures the lists above could spell: never generated.
FAMOUS_NAMES = frozenset({"刘德华", "张国荣", "王俊凯", "刘浩然", "杨国福", "周子轩", "王思然", "李宇轩"})

# Demo accounts: username, full name (fictional), role, area.
DEMO_USERS = (
    ("jinzhai_admin", "程立新", "county_supervisor", COUNTY),
    ("baitafan_admin", "汪明远", "township_admin", BAITAFAN),
    ("liuchong_secretary", "刘德山", "village_secretary", LIUCHONG),
    ("dagang_secretary", "余建平", "village_secretary", DAGANG),
    ("liuchong_grid1", "陈秀珍", "grid_worker", LIUCHONG_GRID1),
    ("liuchong_villager", None, "villager", LIUCHONG_GRID1),  # full name = the linked resident's
    ("baitafan_auditor", "胡玉兰", "auditor", BAITAFAN),
)


def fake_phone(n: int) -> str:
    """The n-th number of the fictional block (0 ≤ n < 1,000,000)."""
    return f"{FAKE_PHONE_PREFIX}{n % 1_000_000:06d}"
