from django.db import models

# Tags: stored as ",code,code," so that one LIKE finds a tag; labels are what the UI shows.
HOUSEHOLD_TAGS = {
    "formerly_poor": "脱贫户",
    "subsistence": "低保户",
    "five_guarantee": "五保户",
    "monitored": "监测户",
    "military_family": "军属",
}
RESIDENT_TAGS = {
    "party_member": "党员",
    "legal_literate": "法律明白人",
    "legal_leader": "法治带头人",
    "volunteer": "志愿者",
    "large_grower": "种粮大户",
    "left_behind_elderly": "留守老人",
    "left_behind_child": "留守儿童",
    "disabled": "残疾人",
    "veteran": "退役军人",
    "deputy": "人大代表",
}
ALL_TAGS = {**HOUSEHOLD_TAGS, **RESIDENT_TAGS}
TAG_BY_LABEL = {label: code for code, label in ALL_TAGS.items()}


class Sex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Relation(models.TextChoices):
    HEAD = "head", "户主"
    SPOUSE = "spouse", "配偶"
    SON = "son", "子"
    DAUGHTER = "daughter", "女"
    GRANDCHILD = "grandchild", "孙子女"
    PARENT = "parent", "父母"
    SON_IN_LAW = "son_in_law", "女婿"
    DAUGHTER_IN_LAW = "daughter_in_law", "儿媳"
    SIBLING = "sibling", "兄弟姐妹"
    OTHER = "other", "其他"


RELATION_BY_LABEL = {label: code for code, label in Relation.choices}
RELATION_BY_LABEL.update(
    {
        "本人": "head", "户主本人": "head", "妻": "spouse", "夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
        "长子": "son", "次子": "son", "三子": "son", "儿子": "son", "之子": "son",
        "长女": "daughter", "次女": "daughter", "三女": "daughter", "女儿": "daughter", "之女": "daughter",
        "孙子": "grandchild", "孙女": "grandchild", "外孙子": "grandchild", "外孙女": "grandchild",
        "父亲": "parent", "母亲": "parent", "父": "parent", "母": "parent", "公公": "parent", "婆婆": "parent",
        "兄": "sibling", "弟": "sibling", "姐": "sibling", "妹": "sibling",
    }
)


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", "在册"
    MOVED_OUT = "moved_out", "迁出"
    DECEASED = "deceased", "已故"


def tags_to_db(codes) -> str:
    codes = sorted({c for c in codes if c})
    return f",{','.join(codes)}," if codes else ""


def tags_from_db(value: str) -> list[str]:
    return [c for c in (value or "").split(",") if c]
