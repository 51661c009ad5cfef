from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from credits import gate
from credits.models import Hold, LedgerEntry, Wallet

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_grant_credits_tops_up_a_venue(venue, superadmin):
    output = _run("grant_credits", "chez-a", "25", "--note", "Launch bonus", "--by", "root")

    assert "balance is now 25" in output
    entry = LedgerEntry.objects.get()
    assert (entry.amount, entry.note, entry.by) == (25, "Launch bonus", superadmin)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["chez-a", "0"], "above zero"),
        (["chez-a", "-5"], "above zero"),
        (["chez-a", "2.5"], "whole number"),
        (["chez-a", "ten"], "whole number"),
        (["nowhere", "5"], "No venue with slug 'nowhere'"),
        (["chez-a", "5", "--by", "nobody"], "No user named 'nobody'"),
    ],
)
def test_grant_credits_rejects_bad_input_and_writes_nothing(venue, args, message):
    with pytest.raises(CommandError, match=message):
        _run("grant_credits", *args)

    assert not LedgerEntry.objects.exists()
    assert not Wallet.objects.exists()


def test_reconcile_credits_refunds_stale_holds_once(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    Hold.objects.update(created_at=timezone.now() - timedelta(hours=1))

    assert "Refunded 1 stale hold(s)." in _run("reconcile_credits")
    assert "Refunded 0 stale hold(s)." in _run("reconcile_credits")
    assert gate.balance_of(venue) == 10


def test_reconcile_credits_leaves_fresh_holds_alone(venue, settings):
    settings.CREDIT_HOLD_TTL_SECONDS = 900
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    Hold.objects.update(created_at=timezone.now() - timedelta(seconds=899))

    assert "Refunded 0" in _run("reconcile_credits")
    assert Hold.objects.get().status == "pending"
    gate.capture(venue=venue, request_id="req-1")


def test_refund_stale_holds_takes_an_explicit_now(venue):
    from credits.reconcile import refund_stale_holds

    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")

    assert refund_stale_holds(now=timezone.now()) == 0
    assert refund_stale_holds(now=timezone.now() + timedelta(days=1)) == 1
    refund = LedgerEntry.objects.get(kind="refund")
    assert "expired hold" in refund.note


def test_check_ledger_passes_when_the_books_balance(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")

    assert "Ledger OK" in _run("check_ledger")


def test_check_ledger_fails_loudly_on_a_mismatch(venue):
    gate.grant(venue=venue, amount=10, note="")
    Wallet.objects.update(balance=11)  # simulate a write that bypassed the gate

    with pytest.raises(CommandError, match="1 wallet"):
        _run("check_ledger")

    Wallet.objects.update(balance=10)  # put it back for the autouse ledger check
