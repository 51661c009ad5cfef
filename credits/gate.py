"""The credit gate: hold the cost before an AI call, capture it on success, refund it on failure.

Every change to a venue's credits goes through this module. Each write is one short transaction
that changes the wallet with a guarded UPDATE and appends the ledger entry explaining it, so the
wallet always equals the sum of the ledger (see `credits.reconcile.ledger_mismatches`).

Concurrency: on PostgreSQL the guarded UPDATE row-locks the wallet and re-checks its condition
after waiting; on SQLite the IMMEDIATE transaction mode (settings) serialises writers at BEGIN.
"Exactly once" for refunds is a conditional UPDATE on the hold (the row count says who won), with
the ledger's unique constraints as the last line of defence.

Every call takes a hold, free ones too (amount 0, no ledger entry): one hold per venue and request
id is what makes an Idempotency-Key hold whatever the price. A kind may have a free daily allowance
per venue (settings.CREDIT_FREE_CALLS_PER_DAY; embeddings by default): until it is used up, calls of
that kind cost 0; after it, their price — so no kind is ever unlimited for a venue at 0 credits.

The price is the caller's to say (`cost=`, composer asks `resilience.pricing`: the venue's primary
model decides it); without one, the kind's default from settings.CREDIT_COSTS.

No transaction may be open around an AI call: `charge` and `refund` open their own *durable*
transactions, so calling them (and so `held`) inside an `atomic` block fails at once (RuntimeError).
`grant` and `adjust` stay composable: opening a venue grants its first credits in the same
transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bitethemenu.errors import FriendlyError, InvalidInput
from bitethemenu.models import Venue
from credits.models import REQUEST_ID_MAX_LENGTH, Hold, LedgerEntry, Wallet

logger = logging.getLogger(__name__)

# A single grant above this is almost certainly a typo (an extra zero or two), not a top-up.
MAX_GRANT = 1_000_000
NOTE_MAX_LENGTH = 200

# The refund's note, which the venue's owner reads in their history: calm, no internals.
FAILED_CALL_NOTE = "Refunded: the request didn't go through"

INSUFFICIENT_MESSAGE = "You're out of credits for this. Ask your venue owner to top up, then try again."


@dataclass(frozen=True)
class Charged:
    """What `charge` (and `held`) hand back: the cost taken and the balance right after."""

    request_id: str
    cost: int
    balance: int


def balance_of(venue: Venue) -> int:
    """The venue's current balance (0 for a venue that never had credits). Read-only."""
    if venue is None or venue.pk is None:
        return 0
    balance = Wallet.objects.filter(venue_id=venue.pk).values_list("balance", flat=True).first()
    return int(balance or 0)


def cost_of(kind: str) -> int:
    """What one call of this service kind costs, from settings.CREDIT_COSTS.

    Raises FriendlyError `invalid_input` for a kind that has no price.
    """
    costs: dict[str, int] = settings.CREDIT_COSTS
    if kind not in costs:
        raise InvalidInput(
            "That isn't something we know how to charge for.", f"unknown service kind {kind!r}"
        )
    return int(costs[kind])


def history(*, venue: Venue, limit: int = 100) -> list[LedgerEntry]:
    """The venue's ledger entries, newest first (at most `limit`)."""
    return list(LedgerEntry.objects.filter(venue=venue).order_by("-created_at", "-id")[:limit])


def _check_amount(amount: Any) -> int:
    # bool is an int subclass: True must not grant one credit.
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput("Enter a whole number of credits.", f"amount must be an integer, got {amount!r}")
    if amount <= 0:
        raise InvalidInput("Enter a number of credits above zero.", f"amount must be > 0, got {amount}")
    if amount > MAX_GRANT:
        raise InvalidInput(
            f"Grant at most {MAX_GRANT:,} credits at a time.", f"amount {amount} > {MAX_GRANT}"
        )
    return amount


def _check_venue(venue: Any) -> Venue:
    if not isinstance(venue, Venue) or venue.pk is None or not Venue.objects.filter(pk=venue.pk).exists():
        raise FriendlyError(
            "not_found", "We couldn't find that venue.", f"unknown venue {venue!r}", http_status=404
        )
    return venue


def _check_request_id(request_id: Any) -> str:
    if not isinstance(request_id, str) or not request_id.strip() or len(request_id) > REQUEST_ID_MAX_LENGTH:
        raise InvalidInput(
            "Something went wrong with this request. Please try again.",
            f"request_id must be a non-empty string of at most {REQUEST_ID_MAX_LENGTH} characters",
        )
    return request_id


def _check_note(note: Any) -> str:
    if not isinstance(note, str):
        raise InvalidInput("The note must be text.", f"note must be a string, got {type(note).__name__}")
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            f"Keep the note under {NOTE_MAX_LENGTH} characters.", f"note is {len(note)} characters"
        )
    return str(note)


def grant(*, venue: Venue, amount: int, note: str, by: Any = None) -> LedgerEntry:
    """Add `amount` credits to the venue (a top-up) and return the grant entry.

    Raises FriendlyError `invalid_input` (422) unless amount is an int in 1..MAX_GRANT and note is
    text of at most 200 characters, and `not_found` (404) for an unsaved or unknown venue;
    in every error case nothing is written.
    """
    amount = _check_amount(amount)
    note = _check_note(note)
    with transaction.atomic():
        venue = _check_venue(venue)
        # Create the wallet on first use; ignore_conflicts makes a racing creator harmless.
        Wallet.objects.bulk_create([Wallet(venue=venue)], ignore_conflicts=True)
        Wallet.objects.filter(venue=venue).update(balance=F("balance") + amount, updated_at=timezone.now())
        return LedgerEntry.objects.create(
            venue=venue,
            kind=LedgerEntry.Kind.GRANT,
            amount=amount,
            note=note,
            by=by if by and by.pk else None,
        )


def adjust(*, venue: Venue, amount: int, note: str, by: Any = None) -> LedgerEntry:
    """A super admin's correction: add (positive) or remove (negative) credits, with a reason.

    Raises FriendlyError `invalid_input` (422) for a zero, non-integer or oversized amount, an
    empty note, or a removal that would take the balance below zero; `not_found` (404) for an
    unknown venue. In every error case nothing is written.
    """
    if amount == 0 and not isinstance(amount, bool):
        raise InvalidInput("An adjustment can't be zero.", "amount must not be 0")
    if isinstance(amount, int) and not isinstance(amount, bool) and amount < 0:
        _check_amount(-amount)
    else:
        _check_amount(amount)
    note = _check_note(note)
    if not note:
        raise InvalidInput("Say why you are adjusting the balance.", "an adjustment needs a note")
    with transaction.atomic():
        venue = _check_venue(venue)
        Wallet.objects.bulk_create([Wallet(venue=venue)], ignore_conflicts=True)
        changed = Wallet.objects.filter(venue=venue, balance__gte=max(0, -amount)).update(
            balance=F("balance") + amount, updated_at=timezone.now()
        )
        if changed != 1:
            raise InvalidInput(
                "That would take the balance below zero.",
                f"balance {balance_of(venue)} + adjustment {amount} < 0",
            )
        return LedgerEntry.objects.create(
            venue=venue,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            amount=amount,
            note=note,
            by=by if by and by.pk else None,
        )


def _check_cost(cost: Any) -> int:
    if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
        raise InvalidInput(
            "Something went wrong with the price of this request.", f"cost must be an int >= 0, got {cost!r}"
        )
    return cost


def _start_of_day() -> datetime:
    return timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _metered(*, venue: Venue, kind: str, price: int) -> int:
    """What this call costs: 0 while the venue's free allowance of `kind` for today lasts, else
    `price`. Runs inside charge's transaction with the wallet row locked (PostgreSQL; SQLite's
    IMMEDIATE mode serialises writers), so two racing calls cannot both take the last free one."""
    allowance = int(settings.CREDIT_FREE_CALLS_PER_DAY.get(kind, 0))
    if price == 0 or allowance <= 0:
        return price
    Wallet.objects.bulk_create([Wallet(venue=venue)], ignore_conflicts=True)
    Wallet.objects.select_for_update().filter(venue_id=venue.pk).values_list("pk", flat=True).first()
    used = (
        Hold.objects.filter(venue_id=venue.pk, service_kind=kind, amount=0, created_at__gte=_start_of_day())
        .exclude(status=Hold.Status.REFUNDED)
        .count()
    )
    return 0 if used < allowance else price


def charge(*, venue: Venue, kind: str, request_id: str, by: Any = None, cost: int | None = None) -> Charged:
    """Hold the cost of one `kind` call for `request_id`: take it from the wallet now, pending a
    `capture` (success) or `refund` (failure).

    `cost`: the price of this call (composer passes the venue's price from resilience.pricing);
    None means the kind's default (settings.CREDIT_COSTS). A call within the kind's free daily
    allowance costs 0 whatever the price.
    Guarantees: the balance never goes below zero; at most one hold per venue and request id,
    free or not. Raises FriendlyError `insufficient_credits` (402) when the venue cannot pay —
    nothing is written; `conflict` (409) when this request id was used before; `invalid_input`
    (422) for an unknown kind, a bad request id or a negative cost. Raises RuntimeError inside an
    open transaction (durable: the AI call must never run inside one).
    """
    price = cost_of(kind) if cost is None else _check_cost(cost)
    request_id = _check_request_id(request_id)
    try:
        with transaction.atomic(durable=True):
            cost = _metered(venue=venue, kind=kind, price=price)
            entry = _take(venue=venue, kind=kind, cost=cost, request_id=request_id, by=by) if cost else None
            Hold.objects.create(
                venue=venue, request_id=request_id, charge=entry, amount=cost, service_kind=kind
            )
            balance = balance_of(venue)
    except IntegrityError:
        # The unique constraint on (venue, request_id): a replayed request must not pay (or run) twice.
        raise FriendlyError(
            "conflict",
            "This request was already charged.",
            f"request_id {request_id!r} already has a charge",
            http_status=409,
            request_id=request_id,
        ) from None
    return Charged(request_id=request_id, cost=cost, balance=balance)


def _take(*, venue: Venue, kind: str, cost: int, request_id: str, by: Any) -> LedgerEntry:
    # `>=`: a venue may spend its very last credit.
    taken = Wallet.objects.filter(venue_id=venue.pk, balance__gte=cost).update(
        balance=F("balance") - cost, updated_at=timezone.now()
    )
    if taken != 1:
        raise _insufficient(venue=venue, kind=kind, cost=cost, request_id=request_id)
    return LedgerEntry.objects.create(
        venue=venue,
        kind=LedgerEntry.Kind.CHARGE,
        amount=-cost,
        service_kind=kind,
        request_id=request_id,
        by=by if by and by.pk else None,
    )


def _insufficient(*, venue: Venue, kind: str, cost: int, request_id: str) -> FriendlyError:
    return FriendlyError(
        "insufficient_credits",
        INSUFFICIENT_MESSAGE,
        f"balance {balance_of(venue)} < cost {cost} for {kind}",
        http_status=402,
        request_id=request_id,
    )


def capture(*, venue: Venue, request_id: str) -> bool:
    """Mark the hold for `request_id` as spent: it will never be refunded afterwards.

    Returns True if this call captured it; False if there is no pending hold (unknown, already
    captured, or already refunded — e.g. by the reconciler after the TTL; `held` then discards the
    call's result). Never raises for those.
    """
    captured = Hold.objects.filter(
        venue_id=venue.pk, request_id=request_id, status=Hold.Status.PENDING
    ).update(status=Hold.Status.CAPTURED, settled_at=timezone.now())
    return captured == 1


def refund(*, venue: Venue, request_id: str, note: str = "") -> LedgerEntry | None:
    """Give back the held cost of `request_id`, exactly once, whoever races (the failing call,
    a retry, the reconciler on another machine).

    Returns the refund entry if this call refunded; None if there is nothing to refund (no
    hold, already captured, or already refunded) — and for a free call, whose hold is marked
    refunded (its allowance given back) with no entry. A captured (successful) call is never
    refunded. Raises RuntimeError inside an open transaction (durable).
    """
    try:
        with transaction.atomic(durable=True):
            # Claim the hold first: only the caller whose UPDATE changed the row goes on.
            claimed = Hold.objects.filter(
                venue_id=venue.pk, request_id=request_id, status=Hold.Status.PENDING
            ).update(status=Hold.Status.REFUNDED, settled_at=timezone.now())
            if claimed != 1:
                return None
            hold = Hold.objects.select_related("charge").get(venue_id=venue.pk, request_id=request_id)
            if hold.charge is None:  # a free call: nothing was taken
                return None
            Wallet.objects.filter(venue_id=venue.pk).update(
                balance=F("balance") + hold.amount, updated_at=timezone.now()
            )
            return LedgerEntry.objects.create(
                venue_id=venue.pk,
                kind=LedgerEntry.Kind.REFUND,
                amount=hold.amount,
                service_kind=hold.charge.service_kind,
                request_id=request_id,
                reverses=hold.charge,
                note=(note or "Refund")[:NOTE_MAX_LENGTH],
            )
    except IntegrityError:
        # Only reachable if the claim above were bypassed; the constraint keeps it exactly once.
        logger.warning("credits: duplicate refund of %s blocked by the database", request_id)
        return None


class ResultDiscarded(FriendlyError):
    """The call finished after its hold had been refunded (the reconciler gave up on it): its
    result must be thrown away, never delivered for free. Calm 503: nothing was charged."""

    def __init__(self, request_id: str):
        super().__init__(
            "ai_unavailable",
            DISCARDED_MESSAGE,
            f"request {request_id} finished after its hold expired and was refunded; result discarded",
            http_status=503,
            request_id=request_id,
        )


DISCARDED_MESSAGE = (
    "That took longer than we allow, so we stopped it and didn't charge you. Please try again."
)


def _discard_if_refunded(*, venue: Venue, request_id: str) -> None:
    """After a capture that did not happen: if the hold was refunded meanwhile, record that the
    result is discarded and raise ResultDiscarded (a missing hold or a failed capture is not)."""
    discarded = Hold.objects.filter(
        venue_id=venue.pk, request_id=request_id, status=Hold.Status.REFUNDED
    ).update(discarded_at=timezone.now())
    if discarded:
        logger.warning("credits: %s finished after its hold was refunded; result discarded", request_id)
        raise ResultDiscarded(request_id)


@contextmanager
def held(
    *, venue: Venue, kind: str, request_id: str, by: Any = None, cost: int | None = None
) -> Iterator[Charged]:
    """Charge before the block (`cost` as in `charge`), capture when it succeeds, refund on ANY
    exception and re-raise.

    The block (the provider call) runs outside any transaction (charge is durable: calling this
    inside one raises RuntimeError before anything is charged), so a slow provider never holds a
    database lock. If charging fails (e.g. `insufficient_credits`) the block does not run. A
    failure to capture or refund is logged, never raised over the caller's outcome: an uncaptured
    hold is refunded by `reconcile_credits` after CREDIT_HOLD_TTL_SECONDS. If that reconciler
    refunded the hold while the block was still running, the block's success is not delivered:
    raises ResultDiscarded (the caller removes what the block saved; docs/CONTRACTS.md).
    """
    charged = charge(venue=venue, kind=kind, request_id=request_id, by=by, cost=cost)
    try:
        yield charged
    except BaseException:
        try:
            refund(venue=venue, request_id=request_id, note=FAILED_CALL_NOTE)
        except Exception:
            logger.exception("credits: refund of %s failed; the reconciler will retry", request_id)
        raise
    try:
        captured = capture(venue=venue, request_id=request_id)
    except Exception:
        logger.exception("credits: capture of %s failed", request_id)
        return
    if not captured:
        _discard_if_refunded(venue=venue, request_id=request_id)
