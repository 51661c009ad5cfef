"""The circuit breaker's state machine, on the local-memory cache with a fake clock."""

from __future__ import annotations

import logging
import threading

import pytest

from resilience import health
from resilience.errors import Reason

pytestmark = pytest.mark.usefixtures("breaker_settings")


def fail(key: str, reason: str = Reason.SERVER, times: int = 1) -> None:
    for _ in range(times):
        health.record_outcome(key, ok=False, reason=reason, duration_ms=5, message="HTTP 503")


def open_breaker(key: str) -> None:
    fail(key, times=3)
    assert health.candidate_health(key).state == "open"


def test_it_stays_closed_below_the_threshold(clock, key):
    fail(key, times=2)
    assert health.allow_attempt(key) is True
    assert health.is_open(key) is False
    assert health.candidate_health(key).state == "closed"


@pytest.mark.parametrize(
    "reason",
    [
        Reason.SERVER,
        Reason.TIMEOUT,
        Reason.RATE_LIMIT,
        Reason.AUTH,
        Reason.MODEL_NOT_FOUND,
        Reason.QUOTA,
        Reason.MALFORMED_RESPONSE,
    ],
)
def test_it_opens_after_the_threshold_of_countable_failures(clock, key, reason):
    fail(key, reason=reason, times=3)
    assert health.is_open(key) is True
    assert health.allow_attempt(key) is False
    assert health.candidate_health(key).state == "open"


def test_it_skips_for_the_whole_cool_down(clock, key):
    open_breaker(key)
    for _ in range(5):
        clock.advance(11.9)
        assert health.allow_attempt(key) is False
    assert health.candidate_health(key).retry_at == pytest.approx(clock() - 59.5 + 60, abs=0.5)


@pytest.mark.parametrize("reason", [Reason.SAFETY, Reason.BAD_REQUEST, Reason.SKIPPED])
def test_request_side_failures_never_open_it(clock, key, reason):
    fail(key, reason=reason, times=20)
    assert health.allow_attempt(key) is True
    assert health.candidate_health(key).state == "closed"


def test_a_safety_refusal_breaks_the_run_of_failures(clock, key):
    fail(key, times=2)
    fail(key, reason=Reason.SAFETY)
    fail(key, times=2)
    assert health.candidate_health(key).state == "closed"


def test_a_success_resets_the_run_of_failures(clock, key):
    fail(key, times=2)
    health.record_outcome(key, ok=True, duration_ms=40)
    fail(key, times=2)
    assert health.allow_attempt(key) is True


def test_after_the_cool_down_it_lets_exactly_one_probe_through(clock, key):
    open_breaker(key)
    clock.advance(60)
    assert health.candidate_health(key).state == "half_open"
    assert [health.allow_attempt(key) for _ in range(5)] == [True, False, False, False, False]


def test_a_successful_probe_closes_it(clock, key):
    open_breaker(key)
    clock.advance(61)
    admission = health.admit(key)
    assert admission.allowed and admission.probe
    health.record_outcome(key, ok=True, duration_ms=42, probe=admission.probe)
    assert health.candidate_health(key).state == "closed"
    assert health.candidate_health(key).consecutive_failures == 0
    assert all(health.allow_attempt(key) for _ in range(3))


def test_a_failed_probe_reopens_it_for_another_cool_down(clock, key):
    open_breaker(key)
    clock.advance(61)
    admission = health.admit(key)
    health.record_outcome(key, ok=False, reason=Reason.TIMEOUT, duration_ms=5, probe=admission.probe)
    assert health.candidate_health(key).state == "open"
    clock.advance(59)
    assert health.allow_attempt(key) is False
    clock.advance(2)
    # A new opening, a new probe: the previous probe's lock does not block it.
    assert health.allow_attempt(key) is True
    assert health.allow_attempt(key) is False


def test_one_failure_too_many_while_open_does_not_extend_the_cool_down(clock, key):
    open_breaker(key)
    clock.advance(30)
    fail(key)  # a straggler that started before the breaker opened
    clock.advance(31)
    assert health.allow_attempt(key) is True


def test_only_the_probe_decides_a_half_open_breaker(clock, key):
    open_breaker(key)
    clock.advance(61)
    probe = health.admit(key).probe
    # Stragglers that started before the opening answer while the probe is in flight: no verdict.
    health.record_outcome(key, ok=True, duration_ms=42)
    assert health.candidate_health(key).state == "half_open"
    fail(key, times=5)
    assert health.candidate_health(key).state == "half_open"
    assert health.allow_attempt(key) is False  # the probe is still out
    health.record_outcome(key, ok=True, duration_ms=42, probe=probe)
    assert health.candidate_health(key).state == "closed"


def test_a_success_from_a_straggler_does_not_close_an_open_breaker(clock, key):
    open_breaker(key)
    clock.advance(10)
    health.record_outcome(key, ok=True, duration_ms=42)
    assert health.candidate_health(key).state == "open"


def test_a_timeout_our_own_deadline_cut_short_never_opens_it(clock, key):
    for _ in range(10):
        health.record_outcome(key, ok=False, reason=Reason.TIMEOUT, duration_ms=5, countable=False)
    assert health.candidate_health(key).state == "closed"
    assert health.candidate_health(key).consecutive_failures == 0
    assert health.candidate_health(key).samples == 10  # still seen in the stats


def test_a_probe_cut_short_by_our_deadline_hands_the_probe_on(clock, key):
    open_breaker(key)
    clock.advance(61)
    probe = health.admit(key).probe
    health.record_outcome(key, ok=False, reason=Reason.TIMEOUT, duration_ms=5, probe=probe, countable=False)
    assert health.candidate_health(key).state == "half_open"
    assert health.admit(key).probe  # the next caller probes


def test_two_threads_sharing_the_cache_get_one_probe_between_them(clock, key):
    open_breaker(key)
    clock.advance(60)
    start = threading.Barrier(8)
    results: list[bool] = []

    def caller() -> None:
        start.wait()
        results.append(health.allow_attempt(key))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert sorted(results) == [False] * 7 + [True]


def test_candidates_have_separate_breakers(clock, key):
    other = health.candidate_key("openai_compatible", "llama3.1", "http://127.0.0.1:10/v1")
    open_breaker(key)
    assert health.allow_attempt(other) is True


def test_the_key_treats_an_empty_base_url_as_the_default(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert health.candidate_key("openai", "gpt-4o", "") == health.candidate_key(
        "openai", "gpt-4o", "https://API.openai.com/v1/"
    )
    assert health.candidate_key("openai", "gpt-4o", "") != health.candidate_key("openai", "gpt-5", "")


def test_the_key_keeps_credentials_and_query_out():
    key = health.candidate_key("openai_compatible", "m", "http://user:secret@10.0.0.5:8000/v1?token=abc")
    assert "secret" not in key and "token" not in key
    assert key == "openai_compatible|m|http://10.0.0.5:8000/v1"


def test_opening_is_logged_once_without_the_base_url(clock, key, caplog):
    with caplog.at_level(logging.WARNING, logger="resilience.health"):
        fail(key, times=5)
    opened = [r for r in caplog.records if "breaker opened" in r.getMessage()]
    assert len(opened) == 1
    assert "127.0.0.1" not in opened[0].getMessage()
