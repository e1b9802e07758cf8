"""Points accounts: one per subject, created on first use."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from .choices import SubjectKind
from .models import Account


def account_for_household(household) -> Account:
    account = Account.objects.filter(household=household).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                subject_kind=SubjectKind.HOUSEHOLD,
                household=household,
                name=f"{household.head_name or '未设户主'}户",
                area_code=household.area_code,
            )
    except IntegrityError:  # created concurrently
        return Account.objects.get(household=household)


def account_for_party_member(resident) -> Account:
    account = Account.objects.filter(subject_kind=SubjectKind.PARTY_MEMBER, resident=resident).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                subject_kind=SubjectKind.PARTY_MEMBER, resident=resident, name=resident.name,
                area_code=resident.area_code,
            )
    except IntegrityError:
        return Account.objects.get(subject_kind=SubjectKind.PARTY_MEMBER, resident=resident)


def account_for_cadre(user, area_code: str) -> Account:
    account = Account.objects.filter(subject_kind=SubjectKind.CADRE, cadre_user=user).first()
    if account:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                subject_kind=SubjectKind.CADRE, cadre_user=user, name=str(user), area_code=area_code,
            )
    except IntegrityError:
        return Account.objects.get(subject_kind=SubjectKind.CADRE, cadre_user=user)
