"""The gate's money rules beyond charge/refund: metered free allowances, durable transactions,
and a call refunded by the reconciler while it was still running (issues 12, 14 and 17)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from bitethemenu.errors import FriendlyError
from credits import gate
from credits.models import Hold, LedgerEntry
from credits.reconcile import refund_stale_holds

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_free_embeddings(settings):
    settings.CREDIT_FREE_CALLS_PER_DAY = {"embedding": 2}
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "embedding": 1}


# --- Metering: never unlimited for a venue at 0 credits ----------------------------------------


def test_a_venue_at_zero_gets_its_free_allowance_then_is_refused(venue, two_free_embeddings):
    assert gate.charge(venue=venue, kind="embedding", request_id="e-1").cost == 0
    assert gate.charge(venue=venue, kind="embedding", request_id="e-2").cost == 0

    with pytest.raises(FriendlyError) as caught:
        gate.charge(venue=venue, kind="embedding", request_id="e-3")

    assert (caught.value.code, caught.value.http_status) == ("insufficient_credits", 402)
    assert Hold.objects.count() == 2


def test_past_the_allowance_a_funded_venue_pays_the_price(venue, two_free_embeddings):
    gate.grant(venue=venue, amount=10, note="")
    for i in range(2):
        gate.charge(venue=venue, kind="embedding", request_id=f"e-{i}")

    charged = gate.charge(venue=venue, kind="embedding", request_id="e-paid", cost=2)

    assert (charged.cost, gate.balance_of(venue)) == (2, 8)


def test_a_failed_free_call_gives_its_allowance_back(venue, two_free_embeddings):
    with pytest.raises(RuntimeError), gate.held(venue=venue, kind="embedding", request_id="e-1"):
        raise RuntimeError("chain down")
    gate.charge(venue=venue, kind="embedding", request_id="e-2")
    assert gate.charge(venue=venue, kind="embedding", request_id="e-3").cost == 0


def test_the_allowance_is_per_day_and_per_venue(venue, other_venue, two_free_embeddings):
    for i in range(2):
        gate.charge(venue=venue, kind="embedding", request_id=f"e-{i}")
    assert gate.charge(venue=other_venue, kind="embedding", request_id="e-0").cost == 0

    Hold.objects.filter(venue=venue).update(created_at=timezone.now() - timedelta(days=1))
    assert gate.charge(venue=venue, kind="embedding", request_id="e-new-day").cost == 0


# --- Durable: no transaction may be open around an AI call (issue 17) ---------------------------


def test_charge_inside_a_transaction_fails_before_charging(venue):
    gate.grant(venue=venue, amount=10, note="")
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        gate.charge(venue=venue, kind="image", request_id="req-1")
    assert gate.balance_of(venue) == 10
    assert not Hold.objects.exists()


def test_held_inside_a_transaction_never_runs_the_call(venue):
    gate.grant(venue=venue, amount=10, note="")
    ran = []
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        with gate.held(venue=venue, kind="image", request_id="req-1"):
            ran.append(True)
    assert ran == []
    assert gate.balance_of(venue) == 10


def test_refund_inside_a_transaction_fails(venue):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        gate.refund(venue=venue, request_id="req-1")
    assert Hold.objects.get().status == Hold.Status.PENDING


def test_grant_still_composes_inside_a_transaction(venue):
    # Opening a venue grants its first credits in the same transaction (credits.api.open_venue).
    with transaction.atomic():
        gate.grant(venue=venue, amount=5, note="")
    assert gate.balance_of(venue) == 5


# --- The reconciler refunded the hold while the call was running (issue 12) ----------------------


def _reconcile_later() -> int:
    from django.conf import settings

    later = timezone.now() + timedelta(seconds=settings.CREDIT_HOLD_TTL_SECONDS + 1)
    return refund_stale_holds(now=later)


def test_a_call_that_finishes_after_its_refund_is_discarded_not_delivered_free(venue):
    gate.grant(venue=venue, amount=10, note="")
    delivered = []

    with pytest.raises(gate.ResultDiscarded) as caught:
        with gate.held(venue=venue, kind="image", request_id="req-1"):
            assert _reconcile_later() == 1  # the reconciler gives up on the call meanwhile
            delivered.append("the image")  # ...then the provider answers

    error = caught.value
    assert (error.code, error.http_status, error.request_id) == ("ai_unavailable", 503, "req-1")
    assert "didn't charge you" in error.user_message
    hold = Hold.objects.get()
    assert hold.status == Hold.Status.REFUNDED and hold.discarded_at is not None
    assert gate.balance_of(venue) == 10
    assert list(LedgerEntry.objects.values_list("kind", flat=True).order_by("id")) == [
        "grant",
        "charge",
        "refund",
    ]


def test_a_call_captured_before_the_reconciler_runs_is_kept(venue):
    gate.grant(venue=venue, amount=10, note="")
    with gate.held(venue=venue, kind="image", request_id="req-1"):
        pass
    assert _reconcile_later() == 0
    assert gate.balance_of(venue) == 6
    assert Hold.objects.get().discarded_at is None
