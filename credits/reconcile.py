"""Housekeeping for the credit gate: refund holds nobody settled, and prove the books balance.

Both are safe to run on several machines at once: `refund_stale_holds` goes through
`gate.refund`, whose conditional UPDATE lets exactly one runner refund each hold, and
`ledger_mismatches` only reads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from bitethemenu.models import Venue
from credits import gate
from credits.models import Hold, LedgerEntry, Wallet

logger = logging.getLogger(__name__)

STALE_NOTE = "Refund: the call never finished (expired hold)"


@dataclass(frozen=True)
class JobState:
    """How the reconciler sees the jobs a hold may span (registered by the app that runs them, so
    credits imports nothing above it): `live(request_ids)` names the holds whose job is still
    queued or running — never refunded for their age alone; `fail_abandoned(now)` fails and
    refunds jobs whose worker died or whose task the queue lost, returning how many."""

    live: Callable[[Iterable[str]], set[str]]
    fail_abandoned: Callable[[datetime], int]


_job_states: list[JobState] = []


def register_job_state(state: JobState) -> None:
    if state not in _job_states:
        _job_states.append(state)


def refund_stale_holds(now: datetime | None = None, *, batch_size: int = 500) -> int:
    """Fail abandoned jobs (refunding their holds), then refund every other hold still pending
    CREDIT_HOLD_TTL_SECONDS after it was taken — except holds whose job is still queued or
    running: a job's hold spans the job, however long the queue.

    A direct call's hold stays pending only when the process died between charge and
    capture/refund. Returns how many holds *this* run refunded (a racing runner's refunds are not
    counted twice; a hold captured meanwhile is left alone). Usable as a periodic task.
    """
    now = now or timezone.now()
    refunded = sum(state.fail_abandoned(now) for state in _job_states)
    cutoff = now - timedelta(seconds=settings.CREDIT_HOLD_TTL_SECONDS)
    stale = list(
        Hold.objects.filter(status=Hold.Status.PENDING, created_at__lt=cutoff)
        .select_related("venue")
        .order_by("created_at")[:batch_size]
    )
    live: set[str] = set()
    for state in _job_states:
        live |= state.live([hold.request_id for hold in stale])
    for hold in stale:
        if hold.request_id in live:
            continue
        if gate.refund(venue=hold.venue, request_id=hold.request_id, note=STALE_NOTE) is not None:
            refunded += 1
            logger.info("credits: refunded stale hold %s (venue %s)", hold.request_id, hold.venue_id)
    return refunded


@dataclass(frozen=True)
class Mismatch:
    """A venue whose cached wallet balance disagrees with the sum of its ledger."""

    venue_id: int
    venue_name: str
    balance: int
    ledger_sum: int

    def __str__(self) -> str:
        return f"{self.venue_name} (id {self.venue_id}): wallet {self.balance} != ledger {self.ledger_sum}"


def ledger_mismatches() -> list[Mismatch]:
    """Every venue whose wallet (0 when it has none) differs from the sum of its entries."""
    sums = dict(
        LedgerEntry.objects.values("venue_id").annotate(total=Sum("amount")).values_list("venue_id", "total")
    )
    balances = dict(Wallet.objects.values_list("venue_id", "balance"))
    names = dict(Venue.objects.filter(pk__in=set(sums) | set(balances)).values_list("pk", "name"))
    mismatches = []
    for venue_id in sorted(set(sums) | set(balances)):
        balance, total = int(balances.get(venue_id, 0)), int(sums.get(venue_id) or 0)
        if balance != total or balance < 0:
            mismatches.append(Mismatch(venue_id, names.get(venue_id, "?"), balance, total))
    return mismatches
