from __future__ import annotations

import pytest
from django.test import override_settings

from bitethemenu.errors import FriendlyError
from credits import gate
from credits.models import Hold, LedgerEntry, Wallet

pytestmark = pytest.mark.django_db


def test_a_venue_without_credits_has_a_zero_balance(venue):
    assert gate.balance_of(venue) == 0


def test_grant_adds_credits_and_writes_one_entry(venue, superadmin):
    entry = gate.grant(venue=venue, amount=50, note="Welcome", by=superadmin)

    assert gate.balance_of(venue) == 50
    assert (entry.kind, entry.amount, entry.note, entry.by) == ("grant", 50, "Welcome", superadmin)


@pytest.mark.parametrize("amount", [0, -5, 2.5, "10", None, True, gate.MAX_GRANT + 1])
def test_grant_rejects_a_bad_amount_and_writes_nothing(venue, amount):
    with pytest.raises(FriendlyError) as caught:
        gate.grant(venue=venue, amount=amount, note="x")

    assert caught.value.code == "invalid_input"
    assert caught.value.http_status == 422
    assert not LedgerEntry.objects.exists()
    assert not Wallet.objects.exists()


def test_grant_rejects_an_unknown_venue_and_writes_nothing(venue):
    from bitethemenu.models import Venue

    ghost = Venue(pk=99999, name="Ghost", slug="ghost")
    with pytest.raises(FriendlyError) as caught:
        gate.grant(venue=ghost, amount=5, note="x")

    assert caught.value.code == "not_found"
    assert not LedgerEntry.objects.exists()


def test_grant_rejects_a_too_long_note(venue):
    with pytest.raises(FriendlyError):
        gate.grant(venue=venue, amount=5, note="x" * 201)
    assert not LedgerEntry.objects.exists()


def test_cost_of_reads_settings():
    with override_settings(CREDIT_COSTS={"image": 7, "chat": 1, "ocr": 2, "embedding": 0}):
        assert gate.cost_of("image") == 7


def test_cost_of_an_unknown_kind_is_a_clear_error():
    with pytest.raises(FriendlyError) as caught:
        gate.cost_of("video")
    assert caught.value.code == "invalid_input"


def test_charge_takes_the_cost_and_holds_it(venue, staff):
    gate.grant(venue=venue, amount=10, note="")

    charged = gate.charge(venue=venue, kind="image", request_id="req-1", by=staff)

    assert charged == gate.Charged(request_id="req-1", cost=4, balance=6)
    assert gate.balance_of(venue) == 6
    entry = LedgerEntry.objects.get(kind="charge")
    assert (entry.amount, entry.request_id, entry.service_kind, entry.by) == (-4, "req-1", "image", staff)
    assert Hold.objects.get().status == Hold.Status.PENDING


def test_charge_refuses_calmly_when_short_and_writes_nothing(venue):
    gate.grant(venue=venue, amount=3, note="")

    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="image", request_id="req-1")

    error = caught.value
    assert (error.code, error.http_status, error.request_id) == ("insufficient_credits", 402, "req-1")
    assert "Ask your venue owner to top up" in error.user_message
    assert error.technical_detail == "balance 3 < cost 4 for image"
    assert gate.balance_of(venue) == 3
    assert not LedgerEntry.objects.filter(kind="charge").exists()
    assert not Hold.objects.exists()


def test_charge_refuses_a_venue_that_never_had_credits(venue):
    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="chat", request_id="req-1")
    assert caught.value.code == "insufficient_credits"


def test_charging_the_same_request_twice_is_a_conflict(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")

    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="image", request_id="req-1")

    assert (caught.value.code, caught.value.http_status) == ("conflict", 409)
    assert gate.balance_of(venue) == 6


@pytest.mark.parametrize("request_id", ["", "   ", "x" * 65, None])
def test_charge_rejects_a_bad_request_id(venue, request_id):
    gate.grant(venue=venue, amount=10, note="")
    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="image", request_id=request_id)
    assert caught.value.code == "invalid_input"
    assert gate.balance_of(venue) == 10


def test_a_zero_cost_call_is_free_but_still_takes_its_request_id(venue, settings):
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "chat": 0}
    charged = gate.charge(venue=venue, kind="chat", request_id="req-1")

    assert charged == gate.Charged(request_id="req-1", cost=0, balance=0)
    assert not LedgerEntry.objects.exists()
    hold = Hold.objects.get()
    assert (hold.amount, hold.charge, hold.service_kind) == (0, None, "chat")
    assert gate.capture(venue=venue, request_id="req-1") is True
    assert gate.refund(venue=venue, request_id="req-1") is None


def test_a_zero_cost_request_id_cannot_run_twice(venue, settings):
    """Issue 12: with a free kind, the same Idempotency-Key ran twice (nothing was written)."""
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "chat": 0}
    gate.charge(venue=venue, kind="chat", request_id="key-12345678")

    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="chat", request_id="key-12345678")
    assert (caught.value.code, caught.value.http_status) == ("conflict", 409)


def test_a_refunded_free_call_writes_no_ledger_entry(venue, settings):
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "chat": 0}
    with pytest.raises(RuntimeError), gate.held(venue=venue, kind="chat", request_id="req-1"):
        raise RuntimeError("boom")
    assert Hold.objects.get().status == Hold.Status.REFUNDED
    assert not LedgerEntry.objects.exists()


def test_charging_exactly_the_whole_balance_works(venue):
    """`>=`, not `>`: a venue may spend its very last credit (a mutation run left this untested)."""
    gate.grant(venue=venue, amount=4, note="")

    charged = gate.charge(venue=venue, kind="image", request_id="req-1")

    assert (charged.cost, charged.balance) == (4, 0)
    assert gate.balance_of(venue) == 0
    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="chat", request_id="req-2")
    assert caught.value.code == "insufficient_credits"


def test_charge_takes_the_price_it_is_given(venue):
    gate.grant(venue=venue, amount=20, note="")

    charged = gate.charge(venue=venue, kind="image", request_id="req-1", cost=12)

    assert (charged.cost, gate.balance_of(venue)) == (12, 8)
    assert LedgerEntry.objects.get(kind="charge").amount == -12


@pytest.mark.parametrize("cost", [-1, 2.5, "4", True])
def test_charge_refuses_a_bad_price_and_writes_nothing(venue, cost):
    gate.grant(venue=venue, amount=20, note="")
    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="image", request_id="req-1", cost=cost)
    assert caught.value.code == "invalid_input"
    assert not Hold.objects.exists()


def test_refund_gives_the_cost_back_once(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")

    first = gate.refund(venue=venue, request_id="req-1", note="chain exhausted")
    second = gate.refund(venue=venue, request_id="req-1")

    assert first is not None and first.amount == 4 and first.reverses.kind == "charge"
    assert first.note == "chain exhausted"
    assert second is None
    assert gate.balance_of(venue) == 10
    assert Hold.objects.get().status == Hold.Status.REFUNDED


def test_refund_of_an_unknown_request_does_nothing(venue):
    gate.grant(venue=venue, amount=10, note="")
    assert gate.refund(venue=venue, request_id="nope") is None
    assert LedgerEntry.objects.count() == 1


def test_a_captured_call_is_never_refunded(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")

    assert gate.capture(venue=venue, request_id="req-1") is True
    assert gate.refund(venue=venue, request_id="req-1") is None
    assert gate.capture(venue=venue, request_id="req-1") is False
    assert gate.balance_of(venue) == 6


def test_capture_after_refund_does_not_take_the_credits_again(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    gate.refund(venue=venue, request_id="req-1")

    assert gate.capture(venue=venue, request_id="req-1") is False
    assert gate.balance_of(venue) == 10


def test_the_same_request_id_at_two_venues_is_two_requests(venue, other_venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.grant(venue=other_venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    gate.charge(venue=other_venue, kind="image", request_id="req-1")

    assert gate.refund(venue=other_venue, request_id="req-1") is not None
    assert (gate.balance_of(venue), gate.balance_of(other_venue)) == (6, 10)


def test_held_captures_on_success(venue):
    gate.grant(venue=venue, amount=10, note="")

    with gate.held(venue=venue, kind="image", request_id="req-1") as charged:
        assert charged.cost == 4

    assert Hold.objects.get().status == Hold.Status.CAPTURED
    assert gate.balance_of(venue) == 6


@pytest.mark.parametrize(
    "exc", [RuntimeError("boom"), FriendlyError("ai_unavailable", "calm"), KeyboardInterrupt()]
)
def test_held_refunds_on_any_exception_and_reraises(venue, exc):
    gate.grant(venue=venue, amount=10, note="")

    with pytest.raises(type(exc)):
        with gate.held(venue=venue, kind="image", request_id="req-1"):
            raise exc

    assert Hold.objects.get().status == Hold.Status.REFUNDED
    assert LedgerEntry.objects.filter(kind="refund").count() == 1
    assert gate.balance_of(venue) == 10


def test_held_does_not_run_the_call_when_the_venue_cannot_pay(venue):
    ran = []
    with pytest.raises(FriendlyError) as caught:
        with gate.held(venue=venue, kind="image", request_id="req-1"):
            ran.append(True)
    assert caught.value.code == "insufficient_credits"
    assert ran == []


def test_held_runs_a_free_call_without_touching_the_ledger(venue):
    with gate.held(venue=venue, kind="embedding", request_id="req-1") as charged:
        assert charged.cost == 0  # within the day's free allowance
    assert not LedgerEntry.objects.exists()
    assert Hold.objects.get().status == Hold.Status.CAPTURED


def test_history_is_newest_first(venue):
    gate.grant(venue=venue, amount=10, note="first")
    gate.charge(venue=venue, kind="chat", request_id="req-1")
    gate.refund(venue=venue, request_id="req-1")

    assert [e.kind for e in gate.history(venue=venue)] == ["refund", "charge", "grant"]


def test_adjust_can_add_or_remove_credits_with_a_reason(venue, superadmin):
    gate.grant(venue=venue, amount=10, note="")

    gate.adjust(venue=venue, amount=-3, note="Duplicate grant", by=superadmin)
    entry = gate.adjust(venue=venue, amount=2, note="Goodwill")

    assert gate.balance_of(venue) == 9
    assert (entry.kind, entry.amount) == ("adjustment", 2)


@pytest.mark.parametrize(
    ("amount", "note"), [(0, "x"), (-11, "too much"), (2.0, "x"), (True, "x"), (5, ""), (5, "   ")]
)
def test_adjust_rejects_bad_input_and_writes_nothing(venue, amount, note):
    gate.grant(venue=venue, amount=10, note="")

    with pytest.raises(FriendlyError) as caught:
        gate.adjust(venue=venue, amount=amount, note=note)

    assert caught.value.code == "invalid_input"
    assert gate.balance_of(venue) == 10
    assert LedgerEntry.objects.count() == 1


def test_a_held_refund_explains_itself_calmly_to_the_owner(venue):
    gate.grant(venue=venue, amount=10, note="")
    with pytest.raises(RuntimeError), gate.held(venue=venue, kind="image", request_id="req-1"):
        raise RuntimeError("provider exploded")
    refund = LedgerEntry.objects.get(kind=LedgerEntry.Kind.REFUND)
    assert refund.note == gate.FAILED_CALL_NOTE == "Refunded: the request didn't go through"
    assert "RuntimeError" not in refund.note and "exploded" not in refund.note
