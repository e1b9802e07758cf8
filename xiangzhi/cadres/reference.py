"""The 果子园乡 cadre roster as the article describes it, as data the demo loads and the
tests check: 67 township cadres (22 行政编制, 27 事业编制, 18 三支一扶); 42 under 35
(62.69%); 12 leadership members with an average age of 39.92, 5 of them under 35.

The article gives no date; the figures hold on REFERENCE_DATE (ages are completed years on
that day). Names are fake (surname + 甲乙丙… pattern) — no real person is described."""

from __future__ import annotations

from datetime import date

REFERENCE_DATE = date(2023, 6, 30)
TOWNSHIP = "341524208"  # 果子园乡

# 12 leaders: 5 under 35, sum of ages 479 → 479 / 12 = 39.9166… → 39.92
LEADER_AGES = [30, 31, 32, 33, 34, 40, 42, 44, 46, 48, 49, 50]
LEADER_TITLES = ["党委书记", "乡长", "人大主席", "党委副书记", "纪委书记", "组织委员", "宣传委员", "副乡长", "副乡长",
                 "武装部长", "统战委员", "政法委员"]
# 55 others: 37 under 35 (→ 42 in all), 18 aged 35+
OTHER_AGES = [24 + (i % 11) for i in range(37)] + [35 + (i * 3) % 22 for i in range(18)]
ESTABLISHMENTS = ["civil_service"] * 22 + ["public_institution"] * 27 + ["sanzhi_yifu"] * 18
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "甲乙丙丁戊己庚辛壬癸"
EDUCATIONS = ["bachelor", "bachelor", "junior_college", "postgraduate", "bachelor"]


def birth_for(age: int, i: int, on: date = REFERENCE_DATE) -> date:
    """A birth date giving exactly ``age`` completed years on ``on`` (birthday already
    passed that year)."""
    return date(on.year - age, 1 + i % 6, 1 + (i * 7) % 28)


def guoziyuan_roster(on: date = REFERENCE_DATE) -> list[dict]:
    people = []
    ages = [(a, True) for a in LEADER_AGES] + [(a, False) for a in OTHER_AGES]
    for i, (age, leader) in enumerate(ages):
        people.append(
            {
                "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i % 10] + GIVEN[(i // 10) % 10],
                "sex": "male" if i % 3 else "female",
                "birth_date": birth_for(age, i, on),
                "education": EDUCATIONS[i % len(EDUCATIONS)],
                "establishment": ESTABLISHMENTS[i],
                "party_member": leader or i % 2 == 0,
                "college_graduate": EDUCATIONS[i % len(EDUCATIONS)] != "junior_college",
                "leadership": leader,
                "title": LEADER_TITLES[i] if leader else "工作人员",
                "start": date(max(on.year - 3, on.year - age + 22), 3, 1),
            }
        )
    return people
