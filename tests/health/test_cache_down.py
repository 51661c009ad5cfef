"""The chain must keep working when the cache (Redis) is down: breaker closed, stats dropped."""

from __future__ import annotations

import logging

import pytest

from resilience import health
from resilience.errors import Reason


@pytest.fixture
def broken_cache(settings, monkeypatch):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {"BACKEND": "tests.health.broken_cache.BrokenCache"},
    }
    monkeypatch.setattr(health, "CACHE_ALIAS", "broken")
    monkeypatch.setattr(health, "_last_warning_at", float("-inf"))


def test_a_broken_cache_allows_attempts_and_never_raises(broken_cache, clock, key, caplog):
    with caplog.at_level(logging.WARNING, logger="resilience.health"):
        for _ in range(5):
            health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5, message="HTTP 503")
        assert health.allow_attempt(key) is True
        assert health.is_open(key) is False
        assert health.candidate_health(key) == health.CandidateHealth()
        health.record_outcome(key, ok=True, duration_ms=5)
        health.reset(key)
    warnings = [r for r in caplog.records if "health cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once-ish, not once per call
    assert "ConnectionError" in warnings[0].getMessage()
