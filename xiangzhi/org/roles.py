"""Roles: each a named set of permissions, defined in code (docs/security.md).

A permission is ``<app_label>.<action>_<model>``. A role grants it with a scope:

* ``AREA``: rows whose ``area_code`` starts with the assignment's area code;
* ``OWN``: only rows the user owns (a villager's own household), via the model's
  ``own_lookup``.

``restrict(user, action)`` (xiangzhi.core.scoping) reads these tables; nothing else
decides who sees what.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AREA = "area"
OWN = "own"

# Region levels an assignment of each role may be placed at.
TOWNSHIP_UP = ("county", "township")


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    levels: tuple[str, ...]
    permissions: dict[str, str] = field(default_factory=dict)
    staff: bool = True  # staff session policy (30 min idle, 12 h absolute)


def _grant(perms, scope=AREA):
    return {p: scope for p in perms}


REGISTRY_READ = ["residents.view_household", "residents.view_resident", "org.view_region"]
REGISTRY_WRITE = [
    "residents.add_household",
    "residents.change_household",
    "residents.add_resident",
    "residents.change_resident",
]
REGISTRY_ADMIN = [
    "residents.reveal_resident",
    "residents.import_household",
    "residents.export_household",
]

CASE_READ = ["cases.view_case"]
CASE_WORK = ["cases.view_case", "cases.add_case", "cases.accept_case", "cases.handle_case", "cases.change_case"]
CASE_LEAD = CASE_WORK + ["cases.assign_case", "cases.close_case", "cases.export_case"]
CASE_TOWNSHIP = CASE_LEAD + ["cases.supervise_case", "cases.configure_case"]

POINTS_READ = [
    "points.view_account",
    "points.view_award",
    "points.view_rulebook",
    "points.view_shop",
    "points.view_redemption",
    "points.view_redblacklist",
    "points.view_ledgerentry",
]
POINTS_PROPOSE = POINTS_READ + ["points.add_award", "points.add_activity"]
POINTS_VILLAGE = POINTS_PROPOSE + [
    "points.review_award",
    "points.change_redblacklist",
    "points.add_rulebook",
    "points.export_account",
]
POINTS_TOWNSHIP = POINTS_VILLAGE + [
    "points.add_shop",
    "points.change_shop",
    "points.reverse_ledgerentry",
]

CADRE_READ = ["cadres.view_cadre", "cadres.view_recognition", "visits.view_visit", "visits.view_contactassignment"]
FIELD_WORK = CADRE_READ + ["visits.add_visit", "visits.view_problem"]
CADRE_ADMIN = FIELD_WORK + [
    "cadres.add_cadre",
    "cadres.change_cadre",
    "cadres.export_cadre",
    "cadres.add_recognition",
    "visits.change_visit",
    "visits.add_contactassignment",
    "visits.export_visit",
]

ROLES: dict[str, Role] = {
    r.code: r
    for r in [
        Role(
            "county_supervisor",
            "县级督导",
            ("county",),
            _grant(
                REGISTRY_READ
                + CASE_READ
                + POINTS_READ
                + CADRE_READ
                + ["cadres.export_cadre", "visits.export_visit"]
                + ["residents.export_household", "org.view_assignment", "cases.export_case", "points.export_account"]
            ),
        ),
        Role(
            "township_admin",
            "乡镇管理员",
            TOWNSHIP_UP,
            _grant(
                REGISTRY_READ
                + REGISTRY_WRITE
                + REGISTRY_ADMIN
                + CASE_TOWNSHIP
                + POINTS_TOWNSHIP
                + CADRE_ADMIN
                + [
                    "org.add_region",
                    "org.change_region",
                    "org.view_assignment",
                    "org.add_assignment",
                    "org.delete_assignment",
                    "accounts.view_user",
                    "accounts.add_user",
                    "accounts.change_user",
                ]
            ),
        ),
        Role(
            "township_staff",
            "乡镇工作人员",
            TOWNSHIP_UP,
            _grant(
                REGISTRY_READ
                + REGISTRY_WRITE
                + CASE_LEAD
                + POINTS_TOWNSHIP
                + CADRE_ADMIN
                + ["residents.import_household", "residents.export_household"]
            ),
        ),
        Role(
            "village_secretary",
            "村党组织书记",
            ("village",),
            _grant(
                REGISTRY_READ
                + REGISTRY_WRITE
                + REGISTRY_ADMIN
                + CASE_LEAD
                + POINTS_VILLAGE
                + FIELD_WORK
                + ["visits.add_contactassignment", "visits.change_visit"]
                + ["org.add_region", "org.change_region", "org.view_assignment"]
            ),
        ),
        Role("village_cadre", "村干部", ("village",), _grant(REGISTRY_READ + REGISTRY_WRITE + CASE_WORK + POINTS_PROPOSE + FIELD_WORK)),
        Role(
            "grid_worker",
            "网格员",
            ("grid", "village"),
            _grant(
                REGISTRY_READ + REGISTRY_WRITE + CASE_WORK + POINTS_PROPOSE + FIELD_WORK + ["residents.reveal_resident"]
            ),
        ),
        Role(
            "mediator",
            "调解员",
            ("township", "village"),
            _grant(["residents.view_household", "residents.view_resident", "cases.view_case", "cases.change_case"]),
        ),
        Role(
            "shop_keeper",
            "超市管理员",
            ("township", "village"),
            _grant(["residents.view_household", "points.view_account", "points.view_shop", "points.view_redemption"]),
        ),
        Role("bank_officer", "金融专员", ("township", "village"), _grant(["org.view_region"])),
        Role("auditor", "审计员", ("county", "township"), _grant(["audit.view_auditevent"])),
        Role(
            "villager",
            "村民",
            ("grid", "village"),
            _grant(
                [
                    "residents.view_household",
                    "residents.view_resident",
                    "cases.view_case",
                    "points.view_account",
                    "points.view_award",
                    "points.view_ledgerentry",
                    "points.view_redemption",
                ],
                OWN,
            ),
            staff=False,
        ),
    ]
}

ROLE_CHOICES = [(r.code, r.label) for r in ROLES.values()]


def all_permissions() -> set[str]:
    return {p for r in ROLES.values() for p in r.permissions}
