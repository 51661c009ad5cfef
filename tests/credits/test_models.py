"""The database itself refuses what the gate must never do, whatever code path tries it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from credits import gate
from credits.models import LedgerEntry, Wallet

pytestmark = pytest.mark.django_db


def _charged(venue) -> LedgerEntry:
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    return LedgerEntry.objects.get(kind="charge")


def test_a_second_refund_row_for_a_request_is_refused_by_the_database(venue):
    charge = _charged(venue)
    gate.refund(venue=venue, request_id="req-1")

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(venue=venue, kind="refund", amount=4, request_id="req-1", reverses=charge)


def test_a_second_charge_row_for_a_request_is_refused_by_the_database(venue):
    _charged(venue)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(venue=venue, kind="charge", amount=-4, request_id="req-1")


def test_a_wallet_cannot_go_below_zero(venue):
    gate.grant(venue=venue, amount=1, note="")

    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(venue=venue).update(balance=-1)


@pytest.mark.parametrize(("kind", "amount"), [("grant", 0), ("grant", -1), ("charge", 3), ("refund", -3)])
def test_an_entry_sign_must_match_its_kind(venue, kind, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(venue=venue, kind=kind, amount=amount, request_id="r")


def test_a_charge_needs_a_request_id(venue):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(venue=venue, kind="charge", amount=-1, request_id="")
