"""Writes to the cadre roster and growth records. Keyword-only, atomic, audited."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from xiangzhi import audit
from xiangzhi.core import periods
from xiangzhi.core.scoping import can_in_area
from xiangzhi.core.text import clean_text
from xiangzhi.org.models import Region

from .choices import CadreLevel, Education, Establishment, FourOnesKind, Honorary, RecognitionKind, RecognitionTarget
from .metrics import age_on
from .models import Cadre, Commitment, FourOnes, Lecture, Mentorship, Post, Recognition, Secondment

MIN_AGE, MAX_AGE = 18, 75


def _err(field, message):
    return ValidationError({field: message})


def _need(actor, perm: str, area_code: str, message: str = "无权管理该单位的干部") -> None:
    if actor is not None and not can_in_area(actor, perm, area_code):
        raise PermissionDenied(message)


def validate_cadre_fields(*, area_code, name, sex, birth_date, education, establishment, on: date | None = None) -> dict:
    """Field checks shared by the form, the API and the roster import; returns errors."""
    errors = {}
    on = on or periods.local_today()
    if not Region.objects.filter(code=area_code, level__in=["township", "village"]).exists():
        errors["area_code"] = "请选择乡镇或村（社区）"
    name = clean_text(name)
    if not name:
        errors["name"] = "请填写姓名"
    elif len(name) > 50 or any(c in name for c in "<>\"'&;=\\/"):
        errors["name"] = "姓名格式不正确"
    if sex not in ("male", "female"):
        errors["sex"] = "请选择性别"
    if not isinstance(birth_date, date):
        errors["birth_date"] = "请填写出生日期"
    else:
        age = age_on(birth_date, on)
        if birth_date > on:
            errors["birth_date"] = "出生日期不能晚于今天"
        elif age < MIN_AGE:
            errors["birth_date"] = f"按此出生日期年龄仅 {age} 岁，干部须年满 {MIN_AGE} 岁"
        elif age > MAX_AGE:
            errors["birth_date"] = f"按此出生日期年龄已 {age} 岁，请核对"
    if education not in Education.values:
        errors["education"] = "学历无效"
    if establishment not in Establishment.values:
        errors["establishment"] = "编制类型无效"
    return errors


@transaction.atomic
def cadre_create(*, actor, area_code: str, name: str, sex: str, birth_date: date, education: str, establishment: str,
                 party_member: bool = False, college_graduate: bool = False, joined_on: date | None = None,
                 user=None, resident=None, posts=()) -> Cadre:
    errors = validate_cadre_fields(area_code=area_code, name=name, sex=sex, birth_date=birth_date,
                                   education=education, establishment=establishment)
    if not errors and Cadre.objects.filter(area_code=area_code, name=clean_text(name), birth_date=birth_date).exists():
        errors["name"] = "该单位已有同名同出生日期的干部（重复录入）"
    if errors:
        raise ValidationError(errors)
    _need(actor, "cadres.add_cadre", area_code)
    cadre = Cadre.objects.create(
        area_code=area_code, level=CadreLevel.TOWNSHIP if len(area_code) == 9 else CadreLevel.VILLAGE,
        name=clean_text(name), sex=sex, birth_date=birth_date, education=education, establishment=establishment,
        party_member=bool(party_member), college_graduate=bool(college_graduate), joined_on=joined_on, user=user,
        resident=resident,
    )
    for p in posts:
        post_add(actor=actor, cadre=cadre, **p)
    audit.record(actor, "cadres.cadre_create", cadre)
    return cadre


@transaction.atomic
def post_add(*, actor, cadre: Cadre, title: str, start: date, area_code: str | None = None, leadership: bool = False,
             is_secretary: bool = False, is_director: bool = False, honorary: str = "", end: date | None = None) -> Post:
    area_code = area_code or cadre.area_code
    title = clean_text(title)
    if not title:
        raise _err("title", "请填写职务")
    if not isinstance(start, date):
        raise _err("start", "请填写任职时间")
    if start > periods.local_today():
        raise _err("start", "任职时间不能晚于今天")
    if end is not None and end <= start:
        raise _err("end", "离任时间须晚于任职时间")
    if honorary not in Honorary.values:
        raise _err("honorary", "名誉职务无效")
    if age_on(cadre.birth_date, start) < MIN_AGE:
        raise _err("start", f"任职时未满 {MIN_AGE} 岁")
    _need(actor, "cadres.change_cadre", area_code)
    post = Post.objects.create(cadre=cadre, area_code=area_code, title=title[:50], leadership=bool(leadership),
                               is_secretary=bool(is_secretary), is_director=bool(is_director), honorary=honorary,
                               start=start, end=end)
    audit.record(actor, "cadres.post_add", cadre, post_id=post.pk, title=post.title)
    return post


@transaction.atomic
def post_end(*, actor, post: Post, end: date) -> Post:
    """End a post; the history stays (nothing is deleted)."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.end is not None:
        raise _err("end", "该职务已离任")
    if end <= post.start:
        raise _err("end", "离任时间须晚于任职时间")
    _need(actor, "cadres.change_cadre", post.area_code)
    post.end = end
    post.save(update_fields=["end"])
    audit.record(actor, "cadres.post_end", post.cadre, post_id=post.pk, end=str(end))
    return post


@transaction.atomic
def recognition_add(*, actor, area_code: str, kind: str, target: str, issued_on: date, issuer: str, reason: str,
                    cadre: Cadre | None = None, unit_name: str = "", title: str = "", document_no: str = "") -> Recognition:
    errors = {}
    if kind not in RecognitionKind.values:
        errors["kind"] = "类型无效"
    if target not in RecognitionTarget.values:
        errors["target"] = "对象无效"
    elif target == RecognitionTarget.CADRE and cadre is None:
        errors["cadre"] = "请选择干部"
    elif target == RecognitionTarget.UNIT and not clean_text(unit_name):
        errors["unit_name"] = "请填写单位名称"
    if not isinstance(issued_on, date) or issued_on > periods.local_today():
        errors["issued_on"] = "日期不能晚于今天"
    if not clean_text(issuer):
        errors["issuer"] = "请填写发文单位"
    if not clean_text(reason):
        errors["reason"] = "请填写事由"
    if errors:
        raise ValidationError(errors)
    _need(actor, "cadres.add_recognition", area_code)
    rec = Recognition.objects.create(
        area_code=area_code, kind=kind, target=target, cadre=cadre if target == RecognitionTarget.CADRE else None,
        unit_name=clean_text(unit_name)[:100], title=clean_text(title)[:50], issued_on=issued_on,
        issuer=clean_text(issuer)[:100], document_no=clean_text(document_no)[:50], reason=clean_text(reason)[:500],
        created_by=actor,
    )
    audit.record(actor, "cadres.recognition_add", rec, kind=kind, target=target)
    return rec


@transaction.atomic
def four_ones_add(*, actor, cadre: Cadre, kind: str, done_on: date, title: str) -> FourOnes:
    if kind not in FourOnesKind.values:
        raise _err("kind", "项目无效")
    if not isinstance(done_on, date) or done_on > periods.local_today():
        raise _err("done_on", "完成日期不能晚于今天")
    if not clean_text(title):
        raise _err("title", "请填写内容或题目")
    _need(actor, "cadres.change_cadre", cadre.area_code, "无权记录")
    item = FourOnes.objects.create(cadre=cadre, year=done_on.year, kind=kind, done_on=done_on,
                                   title=clean_text(title)[:200])
    audit.record(actor, "cadres.four_ones_add", cadre, kind=kind, year=done_on.year)
    return item


@transaction.atomic
def lecture_add(*, actor, area_code: str, held_on: date, speaker: str, topic: str, attendees=()) -> Lecture:
    if not clean_text(topic) or not clean_text(speaker):
        raise ValidationError({"topic": "请填写主讲人和主题"})
    if not isinstance(held_on, date) or held_on > periods.local_today():
        raise _err("held_on", "日期不能晚于今天")
    _need(actor, "cadres.change_cadre", area_code, "无权记录")
    lecture = Lecture.objects.create(area_code=area_code, held_on=held_on, speaker=clean_text(speaker)[:50],
                                     topic=clean_text(topic)[:200])
    lecture.attendees.set(attendees)
    audit.record(actor, "cadres.lecture_add", lecture, attendees=len(list(attendees)))
    return lecture


@transaction.atomic
def commitment_add(*, actor, cadre: Cadre, promise: str, deadline: date) -> Commitment:
    if not clean_text(promise):
        raise _err("promise", "请填写承诺事项")
    if not isinstance(deadline, date):
        raise _err("deadline", "请填写承诺期限")
    _need(actor, "cadres.change_cadre", cadre.area_code, "无权记录")
    c = Commitment.objects.create(cadre=cadre, promise=clean_text(promise)[:500], deadline=deadline)
    audit.record(actor, "cadres.commitment_add", cadre, commitment_id=c.pk)
    return c


@transaction.atomic
def commitment_fulfil(*, actor, commitment: Commitment, fulfilled_on: date, note: str = "") -> Commitment:
    if commitment.fulfilled_on:
        raise _err("fulfilled_on", "已践诺")
    if not isinstance(fulfilled_on, date) or fulfilled_on > periods.local_today():
        raise _err("fulfilled_on", "践诺日期不能晚于今天")
    _need(actor, "cadres.change_cadre", commitment.cadre.area_code, "无权记录")
    commitment.fulfilled_on, commitment.note = fulfilled_on, clean_text(note)[:500]
    commitment.save(update_fields=["fulfilled_on", "note"])
    audit.record(actor, "cadres.commitment_fulfil", commitment.cadre, commitment_id=commitment.pk)
    return commitment


@transaction.atomic
def mentorship_add(*, actor, mentor: Cadre, mentee: Cadre, start: date, end: date | None = None,
                   notes: str = "") -> Mentorship:
    if mentor.pk == mentee.pk:
        raise _err("mentee", "不能与自己结对")
    if end is not None and end < start:
        raise _err("end", "结束时间不能早于开始时间")
    _need(actor, "cadres.change_cadre", mentee.area_code, "无权记录")
    m = Mentorship.objects.create(mentor=mentor, mentee=mentee, start=start, end=end, notes=str(notes or "")[:5000])
    audit.record(actor, "cadres.mentorship_add", mentee, mentor_id=mentor.pk)
    return m


@transaction.atomic
def secondment_add(*, actor, cadre: Cadre, to_where: str, start: date, end: date, post: str = "") -> Secondment:
    if not clean_text(to_where):
        raise _err("to_where", "请填写挂职单位")
    if end < start:
        raise _err("end", "结束时间不能早于开始时间")
    _need(actor, "cadres.change_cadre", cadre.area_code, "无权记录")
    s = Secondment.objects.create(cadre=cadre, to_where=clean_text(to_where)[:100], post=clean_text(post)[:50],
                                  start=start, end=end)
    audit.record(actor, "cadres.secondment_add", cadre, to_where=s.to_where)
    return s


CADRE_FIELDS = ("name", "sex", "birth_date", "education", "establishment", "party_member", "college_graduate",
                "joined_on")


@transaction.atomic
def cadre_update(*, actor, cadre: Cadre, name: str, sex: str, birth_date: date, education: str, establishment: str,
                 party_member: bool = False, college_graduate: bool = False, joined_on: date | None = None,
                 left_on: date | None = None) -> list[str]:
    """Edit a cadre's roster fields (the unit stays; posts change through post_add/post_end).
    Returns the names of the fields that changed (empty: nothing written, nothing audited)."""
    cadre = Cadre.objects.select_for_update().get(pk=cadre.pk)
    errors = validate_cadre_fields(area_code=cadre.area_code, name=name, sex=sex, birth_date=birth_date,
                                   education=education, establishment=establishment)
    name = clean_text(name)
    if not errors and Cadre.objects.filter(area_code=cadre.area_code, name=name, birth_date=birth_date).exclude(
        pk=cadre.pk
    ).exists():
        errors["name"] = "该单位已有同名同出生日期的干部（重复录入）"
    today = periods.local_today()
    if joined_on is not None and (not isinstance(joined_on, date) or joined_on > today):
        errors["joined_on"] = "参加工作时间不能晚于今天"
    if left_on is not None and (not isinstance(left_on, date) or left_on > today):
        errors["left_on"] = "离任时间不能晚于今天"
    if errors:
        raise ValidationError(errors)
    _need(actor, "cadres.change_cadre", cadre.area_code)
    new = {"name": name, "sex": sex, "birth_date": birth_date, "education": education,
           "establishment": establishment, "party_member": bool(party_member),
           "college_graduate": bool(college_graduate), "joined_on": joined_on, "left_on": left_on}
    changed = [k for k, v in new.items() if getattr(cadre, k) != v]
    if not changed:
        return []
    for k in changed:
        setattr(cadre, k, new[k])
    cadre.save(update_fields=changed)
    audit.record(actor, "cadres.cadre_update", cadre, fields=changed)
    return changed
