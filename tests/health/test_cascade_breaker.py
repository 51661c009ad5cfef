"""The breaker inside the real cascade, through the simulated provider (no network)."""

from __future__ import annotations

import pytest

from alerts.models import Alert
from resilience import cascade, health
from resilience.errors import ChainExhausted, Reason
from resilience.types import AIRequest

pytestmark = pytest.mark.usefixtures("breaker_settings", "cascade_clock")


def sim_key(model: str) -> str:
    return health.candidate_key("simulated", model, "")


def ask() -> object:
    return cascade.run("chat", AIRequest(prompt="calamari"), venue=None, service="social.writeCaption")


def legs(result) -> list[tuple[str, str, str, str]]:
    return [(a.label, a.outcome, a.reason, a.message) for a in result.attempts]


def test_an_open_breaker_skips_the_candidate_instantly_and_the_backup_answers(chain, clock):
    chain("chat", [("Primary", "simulated", "server-error"), ("Backup", "simulated", "ok")])
    for _ in range(3):
        health.record_outcome(sim_key("server-error"), ok=False, reason=Reason.SERVER, duration_ms=9)
    result = ask()
    assert result.answered_by == "Backup"
    assert legs(result) == [("Primary", "skipped", "skipped", "breaker open"), ("Backup", "ok", "", "")]
    assert result.attempts[0].duration_ms == 0


def test_the_cascade_trips_the_breaker_and_then_skips_the_candidate(chain, clock, cascade_clock):
    chain("chat", [("Primary", "simulated", "server-error"), ("Backup", "simulated", "ok")])
    for _ in range(3):  # move on first: each call fails once on the primary, the backup answers
        assert [a.outcome for a in ask().attempts] == ["failed", "ok"]
    fourth = ask()  # the 3rd failure opened the breaker
    assert legs(fourth)[0] == ("Primary", "skipped", "skipped", "breaker open")
    assert cascade_clock.sleeps == []  # nobody waited on the primary


def test_no_second_try_into_a_provider_the_breaker_just_judged_down(chain, clock, cascade_clock):
    chain("chat", [("Only", "simulated", "server-error")])
    with pytest.raises(ChainExhausted) as first:
        ask()  # fails, and after the (empty) rest of the chain, its second try: 2 failures
    assert [a.outcome for a in first.value.attempts] == ["failed", "failed"]
    with pytest.raises(ChainExhausted) as second:
        ask()  # the 3rd failure opens the breaker: no second try
    assert [a.outcome for a in second.value.attempts] == ["failed"]
    assert len(cascade_clock.sleeps) == 1


def test_after_the_cool_down_one_probe_goes_to_the_primary_and_success_closes_it(chain, clock):
    chain("chat", [("Primary", "simulated", "ok"), ("Backup", "simulated", "ok-too")])
    for _ in range(3):
        health.record_outcome(sim_key("ok"), ok=False, reason=Reason.TIMEOUT, duration_ms=30_000)
    assert ask().answered_by == "Backup"
    clock.advance(60)
    assert ask().answered_by == "Primary"
    assert health.candidate_health(sim_key("ok")).state == "closed"


def test_a_failed_probe_is_one_call_and_reopens_the_breaker(chain, clock):
    chain("chat", [("Primary", "simulated", "timeout"), ("Backup", "simulated", "ok")])
    for _ in range(3):
        health.record_outcome(sim_key("timeout"), ok=False, reason=Reason.TIMEOUT, duration_ms=30_000)
    clock.advance(61)
    probe = ask()
    assert [(a.label, a.outcome) for a in probe.attempts] == [("Primary", "failed"), ("Backup", "ok")]
    assert health.candidate_health(sim_key("timeout")).state == "open"
    assert legs(ask())[0][1] == "skipped"


def test_safety_refusals_never_open_the_breaker(chain, clock):
    chain("chat", [("Primary", "simulated", "sensitive"), ("Backup", "simulated", "ok")])
    for _ in range(6):
        result = ask()
        assert result.attempts[0].outcome == "failed" and result.attempts[0].reason == "safety"
    assert health.candidate_health(sim_key("sensitive")).state == "closed"


def test_an_exhausted_chain_shows_the_breaker_skip_in_the_alert(chain, clock):
    chain("chat", [("Only", "simulated", "server-error")])
    for _ in range(3):
        health.record_outcome(sim_key("server-error"), ok=False, reason=Reason.SERVER, duration_ms=9)
    with pytest.raises(ChainExhausted) as caught:
        ask()
    assert "Only → skipped" in caught.value.technical_detail
    alert = Alert.objects.get()
    assert [(a.outcome, a.reason, a.message) for a in alert.attempts.all()] == [
        ("skipped", "skipped", "breaker open")
    ]


def test_the_chain_works_with_the_cache_down(chain, clock, settings, monkeypatch):
    settings.CACHES = {**settings.CACHES, "broken": {"BACKEND": "tests.health.broken_cache.BrokenCache"}}
    monkeypatch.setattr(health, "CACHE_ALIAS", "broken")
    chain("chat", [("Primary", "simulated", "server-error"), ("Backup", "simulated", "ok")])
    for _ in range(4):
        result = ask()
        assert result.answered_by == "Backup"
        assert [a.outcome for a in result.attempts] == ["failed", "ok"]  # never skipped


def test_the_cascade_records_stats_for_the_admin(chain, clock):
    chain("chat", [("Primary", "simulated", "server-error"), ("Backup", "simulated", "ok")])
    ask()
    primary, backup = health.candidate_health(sim_key("server-error")), health.candidate_health(sim_key("ok"))
    assert (primary.samples, primary.success_rate, primary.consecutive_failures) == (1, 0.0, 1)
    assert primary.last_error.startswith("server")
    assert (backup.samples, backup.success_rate, backup.state) == (1, 1.0, "closed")


def test_with_the_cache_down_a_hanging_primary_still_leaves_the_backup_its_time(
    chain, settings, monkeypatch, cascade_clock
):
    """No breaker to help (the cache is unreachable), default timing: the first request still succeeds."""
    walk_clock = cascade_clock
    settings.CACHES = {**settings.CACHES, "broken": {"BACKEND": "tests.health.broken_cache.BrokenCache"}}
    monkeypatch.setattr(health, "CACHE_ALIAS", "broken")
    chain("chat", [("Primary", "simulated", "hang"), ("Backup", "simulated", "ok")])
    for _ in range(3):
        start = walk_clock.t
        assert ask().answered_by == "Backup"
        assert walk_clock.t - start <= settings.AI_CHAIN_DEADLINE["chat"] + 0.5


def test_a_timeout_cut_short_by_the_deadline_does_not_count_against_the_provider(chain, settings):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "chat": 30.0}
    settings.AI_CHAIN_DEADLINE = {**settings.AI_CHAIN_DEADLINE, "chat": 40.0}
    # Two ready candidates share 40 s: the hang gets 20 s, below its configured 30 s.
    chain("chat", [("Primary", "simulated", "hang"), ("Backup", "simulated", "ok")])
    for _ in range(5):
        assert ask().answered_by == "Backup"
    assert health.candidate_health(sim_key("hang")).state == "closed"
    assert health.candidate_health(sim_key("hang")).consecutive_failures == 0


def test_a_full_length_timeout_counts(chain, settings):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "chat": 30.0}
    settings.AI_CHAIN_DEADLINE = {**settings.AI_CHAIN_DEADLINE, "chat": 60.0}
    chain("chat", [("Primary", "simulated", "hang"), ("Backup", "simulated", "ok")])
    for _ in range(3):
        ask()
    assert health.candidate_health(sim_key("hang")).state == "open"


def test_the_ai_fallbacks_card_shows_the_breaker_and_stats(admin_client, chain, clock):
    chain("chat", [("Primary", "simulated", "server-error"), ("Backup", "simulated", "ok")])
    for _ in range(3):
        health.record_outcome(
            sim_key("server-error"), ok=False, reason=Reason.SERVER, duration_ms=9, message="HTTP 500"
        )
    html = admin_client.get("/admin/super/ai-fallbacks/chat/").content.decode()
    assert "fb-health-open" in html
    assert "one probe in 60 s" in html
    assert "Success (1 h): 0% of 3 calls" in html
    assert "Last error: server: HTTP 500" in html


def test_a_candidate_skipped_for_the_deadline_does_not_use_up_the_probe(
    chain, clock, cascade_clock, settings, monkeypatch
):
    from resilience.providers.simulated import SimulatedAdapter

    settings.AI_CHAIN_DEADLINE = {**settings.AI_CHAIN_DEADLINE, "chat": 3.0}
    real_call = SimulatedAdapter.call

    def slow_call(self, *args, **kwargs):
        cascade_clock.t += 5  # the first leg eats the whole walk's deadline
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(SimulatedAdapter, "call", slow_call)
    chain("chat", [("Slow", "simulated", "server-error"), ("Recovering", "simulated", "ok")])
    for _ in range(3):
        health.record_outcome(sim_key("ok"), ok=False, reason=Reason.SERVER, duration_ms=9)
    clock.advance(61)
    with pytest.raises(ChainExhausted) as caught:
        ask()
    assert [(a.label, a.message) for a in caught.value.attempts][-1] == ("Recovering", "deadline")
    assert health.allow_attempt(sim_key("ok")) is True  # the probe is still there for the next call
