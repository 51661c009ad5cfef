"""Fixtures for the cascade and adapters: a fake clock, chains built from rows, a spy on alerts."""

from __future__ import annotations

import pytest
import responses as responses_lib

from resilience.models import ChainCandidate
from tests.clocks import InstantClock, install_instant_clock


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> InstantClock:
    return install_instant_clock(monkeypatch)


@pytest.fixture
def chain(db):
    """chain(kind, [(label, provider, model), ...] or dicts) replaces that kind's chain with these rows."""

    def _chain(kind: str, candidates: list) -> list[ChainCandidate]:
        ChainCandidate.objects.filter(kind=kind).delete()
        rows = []
        for priority, spec in enumerate(candidates, start=1):
            fields = (
                spec
                if isinstance(spec, dict)
                else dict(zip(("label", "provider", "model"), spec, strict=True))
            )
            rows.append(ChainCandidate.objects.create(kind=kind, priority=priority, **fields))
        return rows

    return _chain


@pytest.fixture
def exhaustions(monkeypatch):
    """Calls to alerts.record.record_exhaustion (the real one still runs and writes the Alert)."""
    import alerts.record

    calls: list[dict] = []
    real = alerts.record.record_exhaustion

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(alerts.record, "record_exhaustion", spy)
    return calls


@pytest.fixture
def mocked():
    """`responses` with every registered call required and any unregistered call an error."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps
