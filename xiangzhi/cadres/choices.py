from django.db import models


class CadreLevel(models.TextChoices):
    TOWNSHIP = "township", "镇干部"
    VILLAGE = "village", "村干部"


class Establishment(models.TextChoices):
    CIVIL_SERVICE = "civil_service", "行政编制"
    PUBLIC_INSTITUTION = "public_institution", "事业编制"
    SANZHI_YIFU = "sanzhi_yifu", "三支一扶"
    VILLAGE = "village", "村干部（无编制）"
    OTHER = "other", "其他"


class Education(models.TextChoices):
    POSTGRADUATE = "postgraduate", "研究生"
    BACHELOR = "bachelor", "大学本科"
    JUNIOR_COLLEGE = "junior_college", "大学专科"
    SECONDARY = "secondary", "高中/中专"
    JUNIOR = "junior", "初中及以下"


EDUCATION_RANK = {e: i for i, e in enumerate(reversed(Education.values))}  # junior 0 … postgraduate 4
COLLEGE = {Education.POSTGRADUATE, Education.BACHELOR, Education.JUNIOR_COLLEGE}


class Honorary(models.TextChoices):
    NONE = "", "无"
    SECRETARY = "honorary_secretary", "名誉书记"
    DIRECTOR = "honorary_director", "名誉主任"


class FourOnesKind(models.TextChoices):
    SYMPOSIUM = "symposium", "参加一次座谈会"
    BOOK = "book", "赠送一本书"
    SPEECH = "speech", "参加一次演讲比赛"
    ARTICLE = "article", "每月一篇文章"


FOUR_ONES_QUOTA = {FourOnesKind.SYMPOSIUM: 1, FourOnesKind.BOOK: 1, FourOnesKind.SPEECH: 1, FourOnesKind.ARTICLE: 12}
YOUNG_AGE = 35


class RecognitionKind(models.TextChoices):
    COMMENDATION = "commendation", "表扬"
    CRITICISM = "criticism", "通报批评"
    HONOUR = "honour", "荣誉称号"


class RecognitionTarget(models.TextChoices):
    CADRE = "cadre", "干部"
    UNIT = "unit", "部门单位"
