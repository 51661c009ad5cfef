"""Fixtures for the breaker tests: a fake clock and small breaker settings."""

from __future__ import annotations

import pytest

from resilience import health
from tests.clocks import install_instant_clock


class FakeClock:
    """Seconds since the epoch that only move when a test says so."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(autouse=True)
def fresh_cache_backoff(monkeypatch):
    """Each test starts with no remembered cache failure (health backs off a failed cache for a while)."""
    monkeypatch.setattr(health, "_cache_down_until", {})


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(health, "now", fake)
    return fake


@pytest.fixture
def breaker_settings(settings):
    settings.BREAKER_FAILURE_THRESHOLD = 3
    settings.BREAKER_COOLDOWN_SECONDS = 60
    return settings


@pytest.fixture
def key() -> str:
    return health.candidate_key("openai_compatible", "llama3.1", "http://127.0.0.1:9/v1")


@pytest.fixture
def cascade_clock(monkeypatch):
    """The cascade's monotonic clock, standing still until something sleeps (retry waits are instant)."""
    return install_instant_clock(monkeypatch)


@pytest.fixture
def chain(db):
    """chain(kind, [(label, provider, model), ...]) replaces that kind's chain with these rows."""
    from resilience.models import ChainCandidate

    def _chain(kind: str, legs: list[tuple[str, str, str]]) -> None:
        ChainCandidate.objects.filter(kind=kind).delete()
        for priority, (label, provider, model) in enumerate(legs, start=1):
            ChainCandidate.objects.create(
                kind=kind, priority=priority, label=label, provider=provider, model=model
            )

    return _chain
