"""Races on real connections: threads each open their own database connection.

These run on the SQLite file database (IMMEDIATE transactions serialise the writers) and on
PostgreSQL (the guarded UPDATE row-locks the wallet), with the same expectations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from bitethemenu.errors import FriendlyError
from credits import gate, reconcile
from credits.models import Hold, LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def run_together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, released at the same moment; return results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # collected and asserted on by the test
            results[index] = exc
        finally:
            connection.close()  # each thread has its own connection; don't leak it

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def _codes(results: list[Any]) -> list[str]:
    return sorted(r.code if isinstance(r, FriendlyError) else type(r).__name__ for r in results)


def test_only_the_calls_the_venue_can_afford_are_charged(venue):
    cost = gate.cost_of("image")
    affordable = 3
    gate.grant(venue=venue, amount=cost * affordable + cost - 1, note="")  # 3 calls, not quite 4

    results = run_together(
        [(lambda i=i: gate.charge(venue=venue, kind="image", request_id=f"req-{i}")) for i in range(THREADS)]
    )

    charged = [r for r in results if isinstance(r, gate.Charged)]
    refused = [r for r in results if isinstance(r, FriendlyError)]
    assert len(charged) == affordable
    assert len(refused) == THREADS - affordable
    assert {r.code for r in refused} == {"insufficient_credits"}
    assert LedgerEntry.objects.filter(kind="charge").count() == affordable
    assert Hold.objects.count() == affordable
    assert gate.balance_of(venue) == cost - 1
    # Every refused request left no trace in the ledger.
    refused_ids = {r.request_id for r in refused}
    assert not LedgerEntry.objects.filter(request_id__in=refused_ids).exists()


def test_held_calls_racing_for_the_last_credits(venue):
    cost = gate.cost_of("chat")
    gate.grant(venue=venue, amount=cost * 2, note="")
    ran = []

    def call(i: int) -> str:
        with gate.held(venue=venue, kind="chat", request_id=f"req-{i}"):
            ran.append(i)
            if i % 2:
                raise RuntimeError("provider down")
        return "ok"

    results = run_together([(lambda i=i: call(i)) for i in range(THREADS)])

    # Failed calls give their credits back, so a later thread may still afford one: whatever the
    # interleaving, charges - refunds must equal what was spent, and the balance stays >= 0.
    charges = LedgerEntry.objects.filter(kind="charge").count()
    refunds = LedgerEntry.objects.filter(kind="refund").count()
    assert charges == len(ran)
    assert refunds == sum(1 for i in ran if i % 2)
    assert results.count("ok") == charges - refunds
    assert gate.balance_of(venue) == cost * 2 - cost * (charges - refunds) >= 0
    assert all(r == "ok" or isinstance(r, (RuntimeError, FriendlyError)) for r in results)


def test_a_failed_call_is_refunded_exactly_once_when_refund_races_itself(venue):
    gate.grant(venue=venue, amount=40, note="")
    for i in range(4):
        gate.charge(venue=venue, kind="image", request_id=f"req-{i}")

    # Two refunders per request (the failing call and, say, a retry), all at once.
    results = run_together(
        [
            (lambda i=i: gate.refund(venue=venue, request_id=f"req-{i}", note="exhausted"))
            for i in range(4)
            for _ in range(2)
        ]
    )

    refunded = [r for r in results if isinstance(r, LedgerEntry)]
    assert len(refunded) == 4
    assert results.count(None) == 4
    assert LedgerEntry.objects.filter(kind="refund").count() == 4
    assert gate.balance_of(venue) == 40


def test_a_successful_call_is_never_refunded_even_when_capture_races_refund(venue):
    gate.grant(venue=venue, amount=40, note="")
    for i in range(4):
        gate.charge(venue=venue, kind="image", request_id=f"req-{i}")

    calls = []
    for i in range(4):
        calls.append(lambda i=i: ("capture", i, gate.capture(venue=venue, request_id=f"req-{i}")))
        calls.append(lambda i=i: ("refund", i, gate.refund(venue=venue, request_id=f"req-{i}")))
    results = run_together(calls)

    for i in range(4):
        captured = next(r[2] for r in results if r[:2] == ("capture", i))
        refund = next(r[2] for r in results if r[:2] == ("refund", i))
        assert captured != (refund is not None), "exactly one of capture and refund wins"
        hold = Hold.objects.get(request_id=f"req-{i}")
        assert hold.status == ("captured" if captured else "refunded")
        assert LedgerEntry.objects.filter(kind="refund", request_id=f"req-{i}").count() == (
            0 if captured else 1
        )


def test_the_reconciler_refunds_a_stale_hold_once_when_run_concurrently(venue):
    gate.grant(venue=venue, amount=40, note="")
    for i in range(3):
        gate.charge(venue=venue, kind="image", request_id=f"stale-{i}")
    gate.charge(venue=venue, kind="image", request_id="captured")
    gate.capture(venue=venue, request_id="captured")
    gate.charge(venue=venue, kind="image", request_id="fresh")
    # Age every hold but the fresh one past the TTL.
    Hold.objects.exclude(request_id="fresh").update(created_at=timezone.now() - timedelta(hours=1))

    results = run_together([reconcile.refund_stale_holds for _ in range(4)])

    assert sum(results) == 3
    assert set(LedgerEntry.objects.filter(kind="refund").values_list("request_id", flat=True)) == {
        "stale-0",
        "stale-1",
        "stale-2",
    }
    assert LedgerEntry.objects.filter(kind="refund").count() == 3
    assert Hold.objects.get(request_id="captured").status == "captured"
    assert Hold.objects.get(request_id="fresh").status == "pending"
    assert gate.balance_of(venue) == 40 - 4 * 2
    assert reconcile.refund_stale_holds() == 0


def test_the_provider_call_runs_outside_any_transaction(venue):
    gate.grant(venue=venue, amount=10, note="")

    with gate.held(venue=venue, kind="image", request_id="req-1"):
        in_transaction = connection.in_atomic_block

    assert in_transaction is False
    assert Hold.objects.get().status == "captured"


def test_concurrent_first_grants_create_one_wallet_and_lose_nothing(venue):
    from credits.models import Wallet

    results = run_together(
        [(lambda: gate.grant(venue=venue, amount=5, note="top-up")) for _ in range(THREADS)]
    )

    assert all(isinstance(r, LedgerEntry) for r in results), results
    assert Wallet.objects.count() == 1
    assert gate.balance_of(venue) == 5 * THREADS


def test_the_same_request_id_charged_concurrently_is_charged_once(venue):
    """A double-submitted form: every thread carries the same request id; one pays, the rest are refused."""
    cost = gate.cost_of("image")
    gate.grant(venue=venue, amount=cost * THREADS, note="")

    results = run_together([lambda: gate.charge(venue=venue, kind="image", request_id="form-once")] * THREADS)

    assert [type(r).__name__ for r in results].count("Charged") == 1
    assert _codes([r for r in results if not isinstance(r, gate.Charged)]) == ["conflict"] * (THREADS - 1)
    assert LedgerEntry.objects.filter(kind="charge").count() == 1 and Hold.objects.count() == 1
    assert gate.balance_of(venue) == cost * (THREADS - 1)


def test_racing_calls_never_share_out_more_than_the_free_allowance(venue, settings):
    settings.CREDIT_FREE_CALLS_PER_DAY = {"embedding": 3}
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "embedding": 1}

    results = run_together(
        [
            (lambda i=i: gate.charge(venue=venue, kind="embedding", request_id=f"e-{i}"))
            for i in range(THREADS)
        ]
    )

    free = [r for r in results if isinstance(r, gate.Charged) and r.cost == 0]
    assert len(free) == 3
    assert _codes([r for r in results if not isinstance(r, gate.Charged)]) == ["insufficient_credits"] * 5
