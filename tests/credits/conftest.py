"""Credits tests: after every test, the books must balance (each wallet = the sum of its ledger)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _ledger_balances(request):
    """Assert `check_ledger` after each database test.

    Requesting the db fixture here (rather than relying on the marker alone) makes this
    fixture's teardown run *before* the test's transaction is rolled back or flushed.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    yield
    from credits.reconcile import ledger_mismatches

    assert ledger_mismatches() == [], "a wallet disagrees with the sum of its ledger entries"
