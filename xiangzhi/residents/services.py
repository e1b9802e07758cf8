"""Every write to the household registry. Keyword-only, atomic, audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F

from xiangzhi import audit
from xiangzhi.core import crypto, idcard
from xiangzhi.core import phone as phones
from xiangzhi.core.pinyin import primary as pinyin_primary
from xiangzhi.core.pinyin import search_keys
from xiangzhi.core.scoping import can_in_area
from xiangzhi.core.text import clean_text
from xiangzhi.org.models import Region

from .choices import ALL_TAGS, HOUSEHOLD_TAGS, RESIDENT_TAGS, Relation, ResidentStatus, tags_from_db, tags_to_db
from .models import Household, Resident, SearchKey

MAX_NAME = 50
MAX_ADDRESS = 200


# --- field preparation (shared by forms, API and import) -------------------------------
def prepare_name(raw) -> str:
    name = clean_text(raw)
    if not name:
        raise ValidationError({"name": "请填写姓名"})
    if len(name) > MAX_NAME:
        raise ValidationError({"name": f"姓名过长（最多 {MAX_NAME} 个字）"})
    if any(ch in name for ch in "<>\"'&;=\\/"):
        raise ValidationError({"name": "姓名中含有不允许的字符"})
    return name


def prepare_id_number(raw) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        return idcard.validate(str(raw))
    except idcard.IdNumberError as exc:
        raise ValidationError({"id_number": str(exc)}) from exc


def prepare_phone(raw) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    try:
        return phones.validate_phone(str(raw))
    except phones.PhoneError as exc:
        raise ValidationError({"phone": str(exc)}) from exc


def prepare_tags(codes, allowed: dict, field: str) -> str:
    codes = [c for c in (codes or []) if c]
    unknown = [c for c in codes if c not in allowed]
    if unknown:
        raise ValidationError({field: f"未知标签：{'、'.join(unknown)}"})
    return tags_to_db(codes)


def personal_fields(*, name: str, id_number: str | None, phone: str | None, validated: bool = False) -> dict:
    """Model fields derived from validated inputs: pinyin, encrypted ID/phone and their
    blind indexes, sex and birth year from the ID (``validated``: the ID number is the
    normalised output of ``idcard.validate`` already — bulk paths — and is not re-checked)."""
    full, initials = pinyin_primary(name)
    fields = {"name": name, "name_pinyin": full, "name_initials": initials}
    if id_number:
        sex, born = idcard.facts(id_number, validated=validated)
        fields.update(
            id_number_enc=crypto.encrypt(id_number),
            id_number_hash=crypto.blind_index(id_number, "id_number"),
            id_last4_hash=crypto.blind_index(id_number[-4:], "id_last4"),
            sex=sex,
            birth_year=born.year,
        )
    else:
        fields.update(id_number_enc=None, id_number_hash=None, id_last4_hash="")
    if phone:
        fields.update(phone_enc=crypto.encrypt(phone), phone_hash=crypto.blind_index(phone, "phone"))
    else:
        fields.update(phone_enc=None, phone_hash="")
    return fields


def search_key_rows(resident: Resident) -> list[SearchKey]:
    return [
        SearchKey(resident_id=resident.pk, household_id=resident.household_id, area_code=resident.area_code,
                  township=resident.area_code[:9], key=k)
        for k in sorted(search_keys(resident.name))
    ]


def _area_for_household(actor, area_code: str, perm: str) -> Region:
    region = Region.objects.filter(code=area_code, level__in=["village", "grid"], is_active=True).first()
    if region is None:
        raise ValidationError({"area_code": "请选择有效的村或网格"})
    if actor is not None and not can_in_area(actor, perm, area_code):
        raise PermissionDenied("无权在该区域登记")
    return region


def _check_unique_id(id_hash: str | None, exclude_pk=None) -> None:
    if not id_hash:
        return
    qs = Resident.objects.filter(id_number_hash=id_hash)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"id_number": "该身份证号已在户籍档案中登记"})


# --- households ------------------------------------------------------------------------
@transaction.atomic
def household_create(*, actor, area_code: str, number: str = "", address: str = "", tags=(), note: str = "") -> Household:
    _area_for_household(actor, area_code, "residents.add_household")
    number = clean_text(number)[:32]
    address = clean_text(address)
    if len(address) > MAX_ADDRESS:
        raise ValidationError({"address": f"住址过长（最多 {MAX_ADDRESS} 个字）"})
    village_code = area_code[:12]
    if number and Household.objects.filter(village_code=village_code, number=number).exists():
        raise ValidationError({"number": "本村已有该户号"})
    household = Household.objects.create(
        area_code=area_code,
        village_code=village_code,
        number=number,
        address=address,
        tags=prepare_tags(tags, HOUSEHOLD_TAGS, "tags"),
        note=clean_text(note)[:500],
    )
    audit.record(actor, "residents.household_create", household)
    return household


@transaction.atomic
def household_update(*, actor, household: Household, **changes) -> Household:
    household = Household.objects.select_for_update().get(pk=household.pk)
    changed = []
    if "area_code" in changes and changes["area_code"] != household.area_code:
        new_area = changes["area_code"]
        _area_for_household(actor, new_area, "residents.change_household")
        household.area_code, household.village_code = new_area, new_area[:12]
        Resident.objects.filter(household=household).update(area_code=new_area)
        SearchKey.objects.filter(household=household).update(area_code=new_area, township=new_area[:9])
        changed.append("area_code")
    if "number" in changes:
        number = clean_text(changes["number"])[:32]
        if number != household.number:
            if number and Household.objects.filter(village_code=household.village_code, number=number).exclude(
                pk=household.pk
            ).exists():
                raise ValidationError({"number": "本村已有该户号"})
            household.number = number
            changed.append("number")
    if "address" in changes:
        address = clean_text(changes["address"])
        if len(address) > MAX_ADDRESS:
            raise ValidationError({"address": f"住址过长（最多 {MAX_ADDRESS} 个字）"})
        if address != household.address:
            household.address = address
            changed.append("address")
    if "tags" in changes:
        tags = prepare_tags(changes["tags"], HOUSEHOLD_TAGS, "tags")
        if tags != household.tags:
            household.tags = tags
            changed.append("tags")
    if "note" in changes:
        note = clean_text(changes["note"])[:500]
        if note != household.note:
            household.note = note
            changed.append("note")
    if changed:
        household.save()
        audit.record(actor, "residents.household_update", household, fields=changed)
    return household


def _refresh_household(household_id: int) -> None:
    """Keep the cached head name and member count in step with the members."""
    members = Resident.objects.filter(household_id=household_id, status=ResidentStatus.ACTIVE)
    head = members.filter(relation=Relation.HEAD).order_by("id").first()
    Household.objects.filter(pk=household_id).update(
        head=head, head_name=head.name if head else "", member_count=members.count()
    )


# --- residents -------------------------------------------------------------------------
@transaction.atomic
def resident_create(
    *, actor, household: Household, name, id_number=None, phone=None, relation: str = Relation.OTHER, tags=()
) -> Resident:
    errors: dict[str, str] = {}
    values = {}
    for field, fn, raw in (
        ("name", prepare_name, name),
        ("id_number", prepare_id_number, id_number),
        ("phone", prepare_phone, phone),
    ):
        try:
            values[field] = fn(raw)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if relation not in Relation.values:
        errors["relation"] = "与户主关系无效"
    try:
        tag_value = prepare_tags(tags, RESIDENT_TAGS, "tags")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    if actor is not None and not can_in_area(actor, "residents.add_resident", household.area_code):
        raise PermissionDenied("无权在该区域登记")
    fields = personal_fields(name=values["name"], id_number=values["id_number"], phone=values["phone"])
    _check_unique_id(fields["id_number_hash"])
    if relation == Relation.HEAD and Resident.objects.filter(
        household=household, relation=Relation.HEAD, status=ResidentStatus.ACTIVE
    ).exists():
        raise ValidationError({"relation": "该户已有户主"})
    resident = Resident.objects.create(
        household=household, area_code=household.area_code, relation=relation, tags=tag_value, **fields
    )
    SearchKey.objects.bulk_create(search_key_rows(resident))
    _refresh_household(household.pk)
    audit.record(actor, "residents.resident_create", resident, household_id=household.pk)
    return resident


@transaction.atomic
def resident_update(*, actor, resident: Resident, **changes) -> Resident:
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if actor is not None and not can_in_area(actor, "residents.change_resident", resident.area_code):
        raise PermissionDenied("无权修改")
    errors: dict[str, str] = {}
    changed: list[str] = []
    name = resident.name
    id_number = phone = None
    if "name" in changes:
        try:
            name = prepare_name(changes["name"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if "id_number" in changes:
        try:
            id_number = prepare_id_number(changes["id_number"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if "phone" in changes:
        try:
            phone = prepare_phone(changes["phone"])
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if "relation" in changes and changes["relation"] not in Relation.values:
        errors["relation"] = "与户主关系无效"
    if "status" in changes and changes["status"] not in ResidentStatus.values:
        errors["status"] = "状态无效"
    if "tags" in changes:
        try:
            tags = prepare_tags(changes["tags"], RESIDENT_TAGS, "tags")
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    if name != resident.name:
        fields = personal_fields(name=name, id_number=None, phone=None)
        resident.name, resident.name_pinyin, resident.name_initials = name, fields["name_pinyin"], fields["name_initials"]
        changed.append("name")
    if "id_number" in changes:
        current = resident_plain(resident)["id_number"]
        if id_number != current:
            fields = personal_fields(name=resident.name, id_number=id_number, phone=None)
            _check_unique_id(fields["id_number_hash"], exclude_pk=resident.pk)
            for f in ("id_number_enc", "id_number_hash", "id_last4_hash"):
                setattr(resident, f, fields[f])
            if id_number:
                resident.sex, resident.birth_year = fields["sex"], fields["birth_year"]
            changed.append("id_number")
    if "phone" in changes:
        current = resident_plain(resident)["phone"]
        if phone != current:
            fields = personal_fields(name=resident.name, id_number=None, phone=phone)
            resident.phone_enc, resident.phone_hash = fields["phone_enc"], fields["phone_hash"]
            changed.append("phone")
    if "relation" in changes and changes["relation"] != resident.relation:
        if changes["relation"] == Relation.HEAD and Resident.objects.filter(
            household_id=resident.household_id, relation=Relation.HEAD, status=ResidentStatus.ACTIVE
        ).exclude(pk=resident.pk).exists():
            raise ValidationError({"relation": "该户已有户主"})
        resident.relation = changes["relation"]
        changed.append("relation")
    if "status" in changes and changes["status"] != resident.status:
        resident.status = changes["status"]
        changed.append("status")
    if "tags" in changes and tags != resident.tags:
        resident.tags = tags
        changed.append("tags")
    if changed:
        resident.save()
        if "name" in changed:
            SearchKey.objects.filter(resident=resident).delete()
            SearchKey.objects.bulk_create(search_key_rows(resident))
        _refresh_household(resident.household_id)
        audit.record(actor, "residents.resident_update", resident, fields=changed)
    return resident


# --- personal data: decrypt, mask, reveal ----------------------------------------------
def resident_plain(resident: Resident) -> dict:
    """Decrypted values, for internal comparison and for the audited reveal only."""
    return {
        "id_number": crypto.decrypt(bytes(resident.id_number_enc)) if resident.id_number_enc else None,
        "phone": crypto.decrypt(bytes(resident.phone_enc)) if resident.phone_enc else None,
    }


MIN_REASON = 4


@transaction.atomic
def resident_lookup_by_id_number(*, actor, id_number: str, channel: str = "web") -> Resident | None:
    """The exact lookup by full ID number, audited: who looked, when, and whether someone in
    scope was found — never the number itself. A targeted query about one person is itself
    personal data; if the audit record cannot be written, nothing is looked up
    (``AuditWriteError``)."""
    from . import selectors

    with transaction.atomic():
        resident = selectors.resident_find_by_id_number(user=actor, id_number=id_number)
        audit.record(actor, "residents.id_lookup", resident, found=resident is not None, channel=channel)
    return resident


def resident_reveal(*, actor, resident: Resident, reason: str, fields=("id_number", "phone")) -> dict:
    """Full ID number / phone for a stated reason. The audit record is written first and in
    the same transaction: if it cannot be written, nothing is revealed."""
    reason = clean_text(reason)
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": f"请填写查看原因（至少 {MIN_REASON} 个字）"})
    if actor is None or not can_in_area(actor, "residents.reveal_resident", resident.area_code):
        raise PermissionDenied("无权查看完整信息")
    fields = [f for f in fields if f in ("id_number", "phone")]
    audit.record(actor, "residents.reveal", resident, reason=reason[:200], fields=fields)
    plain = resident_plain(resident)
    return {f: plain[f] for f in fields}


def tags_labels(value: str) -> str:
    return "、".join(ALL_TAGS.get(c, c) for c in tags_from_db(value))


def bump_member_count(household_id: int, delta: int) -> None:
    Household.objects.filter(pk=household_id).update(member_count=F("member_count") + delta)
