"""Registry services: validation, encryption at rest, search keys, heads, audit."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from xiangzhi.audit.models import AuditEvent
from xiangzhi.core import crypto, idcard
from xiangzhi.core.testing import VILLAGE_A, next_id
from xiangzhi.residents import selectors, services
from xiangzhi.residents.models import Household, Resident, SearchKey

pytestmark = pytest.mark.django_db


def _all_text_in_database() -> str:
    """Every value of every column of every table, as text (what a stolen DB file holds)."""
    chunks = []
    with connection.cursor() as cur:
        for table in connection.introspection.table_names(cur):
            cur.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from introspection
            for row in cur.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("latin-1")
                    chunks.append(str(value))
    return "\n".join(chunks)


def test_id_number_and_phone_are_never_stored_in_plaintext(cast):
    id_number = idcard.make_id("341524", date(1987, 7, 13), 517)
    services.resident_create(
        actor=cast.secretary_a, household=cast.household_a1, name="刘测试", id_number=id_number,
        phone="13912345678", relation="spouse",
    )
    dump = _all_text_in_database()
    assert id_number not in dump
    assert id_number[6:14] not in dump  # not even the birth date part
    assert "13912345678" not in dump
    resident = Resident.objects.get(name="刘测试")
    assert services.resident_plain(resident) == {"id_number": id_number, "phone": "13912345678"}
    assert resident.sex == "male" and resident.birth_year == 1987


def test_masked_values_hide_birth_date(cast):
    id_number = idcard.make_id("341524", date(1990, 12, 31), 22)
    r = services.resident_create(actor=None, household=cast.household_a1, name="测甲", id_number=id_number, phone="0564-5123456")
    shown = selectors.masked(r)
    assert shown["id_number"].startswith("341524") and shown["id_number"].endswith(id_number[-4:])
    assert "19901231" not in shown["id_number"]
    assert "5123456" not in shown["phone"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "341524198707130000", "校验"),
        ("id_number", "12345", "18"),
        ("phone", "12345", ""),
        ("name", "<script>alert(1)</script>", "不允许"),
        ("name", "", "姓名"),
    ],
)
def test_bad_input_is_rejected_in_chinese_and_nothing_written(cast, field, value, message):
    kwargs = {"name": "测乙", "id_number": next_id(), "phone": None, field: value}
    before = Resident.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.resident_create(actor=cast.secretary_a, household=cast.household_a1, **kwargs)
    text = " ".join(exc.value.message_dict[field])
    assert message in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert (Resident.objects.count(), AuditEvent.objects.count()) == before


def test_same_id_number_cannot_be_registered_twice(cast):
    id_number = next_id()
    services.resident_create(actor=None, household=cast.household_a1, name="测丙", id_number=id_number)
    with pytest.raises(ValidationError) as exc:
        services.resident_create(actor=None, household=cast.household_b1, name="测丁", id_number=id_number.lower())
    assert "已在户籍档案中登记" in exc.value.message_dict["id_number"][0]


def test_lower_case_x_is_normalised(cast):
    base = idcard.make_id("341524", date(1970, 1, 1), 1)
    # find a sequence whose check digit is X
    seq = next(s for s in range(1000) if idcard.make_id("341524", date(1970, 1, 1), s).endswith("X"))
    id_number = idcard.make_id("341524", date(1970, 1, 1), seq)
    assert base
    r = services.resident_create(actor=None, household=cast.household_a1, name="测戊", id_number=id_number.lower())
    assert services.resident_plain(r)["id_number"] == id_number
    assert selectors.resident_find_by_id_number(user=cast.secretary_a, id_number=id_number.lower()) == r


def test_household_head_and_member_count_follow_members(cast):
    h = services.household_create(actor=cast.secretary_a, area_code=cast.grid_a1.code, number="T-1")
    services.resident_create(actor=cast.secretary_a, household=h, name="赵一", relation="head", id_number=next_id())
    services.resident_create(actor=cast.secretary_a, household=h, name="钱二", relation="spouse")
    h.refresh_from_db()
    assert (h.head_name, h.member_count) == ("赵一", 2)
    with pytest.raises(ValidationError):
        services.resident_create(actor=cast.secretary_a, household=h, name="孙三", relation="head")


def test_writes_outside_scope_are_refused(cast):
    with pytest.raises(PermissionDenied):
        services.household_create(actor=cast.secretary_b, area_code=cast.grid_a1.code)
    with pytest.raises(PermissionDenied):
        services.resident_create(actor=cast.secretary_b, household=cast.household_a1, name="越权")


def test_household_must_belong_to_a_village_or_grid(cast):
    with pytest.raises(ValidationError) as exc:
        services.household_create(actor=None, area_code="341524111")
    assert "村或网格" in exc.value.message_dict["area_code"][0]


def test_overlong_address_is_refused(cast):
    with pytest.raises(ValidationError) as exc:
        services.household_create(actor=None, area_code=VILLAGE_A, address="长" * 10_000)
    assert "住址过长" in exc.value.message_dict["address"][0]
    assert not Household.objects.filter(address__startswith="长长").exists()


def test_search_keys_cover_pinyin_initials_and_given_name(cast):
    keys = set(SearchKey.objects.filter(resident__name="刘长喜").values_list("key", flat=True))
    assert {"刘长喜", "长喜", "lcx", "liuchangxi"} <= keys
    found = selectors.household_list(user=cast.secretary_a, q="lcx")
    assert cast.household_a1 in found
    assert not selectors.household_list(user=cast.secretary_b, q="lcx").exists()


def test_search_by_last_four_id_digits(cast):
    id_number = next_id()
    services.resident_create(actor=None, household=cast.household_a2, name="测己", id_number=id_number)
    assert cast.household_a2 in selectors.household_list(user=cast.secretary_a, q=id_number[-4:])


def test_renaming_updates_search_keys(cast):
    r = Resident.objects.get(name="刘小明")
    services.resident_update(actor=cast.secretary_a, resident=r, name="刘大明")
    assert cast.household_a1 in selectors.household_list(user=cast.secretary_a, q="ldm")
    assert not SearchKey.objects.filter(resident=r, key="lxm").exists()


def test_reveal_is_audited_and_needs_a_reason(cast):
    r = Resident.objects.get(name="刘长喜")
    with pytest.raises(ValidationError):
        services.resident_reveal(actor=cast.secretary_a, resident=r, reason="")
    n = AuditEvent.objects.filter(action="residents.reveal").count()
    shown = services.resident_reveal(actor=cast.secretary_a, resident=r, reason="核实低保申请材料")
    assert idcard.is_valid(shown["id_number"])
    event = AuditEvent.objects.filter(action="residents.reveal").latest("id")
    assert AuditEvent.objects.filter(action="residents.reveal").count() == n + 1
    assert event.actor == cast.secretary_a and event.details["reason"] == "核实低保申请材料"
    assert shown["id_number"] not in str(event.details)


def test_reveal_refused_when_audit_cannot_be_written(cast, monkeypatch):
    from xiangzhi.audit import services as audit_services

    def broken(*args, **kwargs):
        raise audit_services.AuditWriteError("disk full")

    monkeypatch.setattr(audit_services, "record", broken)
    r = Resident.objects.get(name="刘长喜")
    with pytest.raises(audit_services.AuditWriteError):
        services.resident_reveal(actor=cast.secretary_a, resident=r, reason="核实身份信息")


def test_reveal_needs_permission(cast):
    r = Resident.objects.get(name="刘长喜")
    with pytest.raises(PermissionDenied):
        services.resident_reveal(actor=cast.secretary_b, resident=r, reason="核实身份信息")


def test_blind_index_is_keyed(cast):
    id_number = next_id()
    r = services.resident_create(actor=None, household=cast.household_a1, name="测庚", id_number=id_number)
    import hashlib

    assert r.id_number_hash == crypto.blind_index(id_number, "id_number")
    assert r.id_number_hash != hashlib.sha256(id_number.encode()).hexdigest()[:32]


def test_rare_characters_survive(cast):
    r = services.resident_create(actor=None, household=cast.household_a1, name="王小䃥")
    r.refresh_from_db()
    assert r.name == "王小䃥"
    assert cast.household_a1 in selectors.household_list(user=cast.secretary_a, q="王小䃥")
