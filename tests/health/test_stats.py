"""Health stats over the last hour: success rate, median latency, last error."""

from __future__ import annotations

import pytest

from resilience import health
from resilience.errors import Reason

pytestmark = pytest.mark.usefixtures("breaker_settings")


def test_a_candidate_never_called_has_no_stats(clock, key):
    assert health.candidate_health(key) == health.CandidateHealth()


def test_it_reports_success_rate_median_latency_and_last_error(clock, key):
    for ms in (40, 50, 70):
        health.record_outcome(key, ok=True, reason="", duration_ms=ms)
    health.record_outcome(key, ok=False, reason=Reason.TIMEOUT, duration_ms=30_000, message="timed out")
    got = health.candidate_health(key)
    assert got.samples == 4
    assert got.success_rate == pytest.approx(0.75)
    assert got.success_percent == 75
    assert got.median_latency_ms == 50  # of answers only: the timeout is not a latency
    assert got.last_error == "timeout: timed out"
    assert got.last_error_at == clock()
    assert got.consecutive_failures == 1


def test_samples_older_than_an_hour_drop_out(clock, key):
    health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=10)
    clock.advance(1800)
    health.record_outcome(key, ok=True, duration_ms=20)
    clock.advance(1801)
    got = health.candidate_health(key)
    assert (got.samples, got.success_rate, got.median_latency_ms) == (1, 1.0, 20)
    clock.advance(1800)
    assert health.candidate_health(key).samples == 0
    assert health.candidate_health(key).success_rate is None


def test_the_sample_list_is_bounded(clock, key):
    for i in range(health.SAMPLE_LIMIT + 50):
        health.record_outcome(key, ok=i >= 50, reason="" if i >= 50 else Reason.SERVER, duration_ms=i)
    got = health.candidate_health(key)
    assert got.samples == health.SAMPLE_LIMIT
    assert got.success_rate == 1.0  # the 50 oldest (failures) were dropped


def test_skipped_attempts_are_not_samples(clock, key):
    health.record_outcome(key, ok=False, reason=Reason.SKIPPED, duration_ms=0, message="breaker open")
    assert health.candidate_health(key).samples == 0


def test_reset_forgets_a_candidate(clock, key):
    for _ in range(3):
        health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5)
    health.reset(key)
    assert health.candidate_health(key) == health.CandidateHealth()
    assert health.allow_attempt(key) is True


def test_many_candidates_do_not_evict_an_open_breaker_from_local_memory(clock, key):
    for _ in range(3):
        health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5)
    for i in range(300):  # a big platform's worth of candidates, each with stats
        other = health.candidate_key("openai_compatible", f"model-{i}", "http://127.0.0.1:9/v1")
        health.record_outcome(other, ok=True, duration_ms=5)
    assert health.candidate_health(key).state == "open"


def test_an_open_breaker_says_when_its_probe_is_due(clock, key):
    for _ in range(3):
        health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5)
    clock.advance(14.5)
    assert health.candidate_health(key).cooldown_left_seconds == 46
    assert health.CandidateHealth().cooldown_left_seconds is None
