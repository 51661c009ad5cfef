"""The attempt aggregates: what the cascade's audit says, the buckets add up to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db.models import Sum

from alerts.attempts import Attempt
from observe import record
from observe.models import COUNTER_FIELDS, AttemptBucket
from observe.retention import prune
from resilience import cascade, health
from resilience.errors import ChainExhausted
from resilience.primaries import set_primary
from resilience.types import AIOutput, AIRequest


def _totals(**filters) -> dict[str, int]:
    rows = AttemptBucket.objects.filter(span=300, **filters)
    return {name: value or 0 for name, value in rows.aggregate(**{n: Sum(n) for n in COUNTER_FIELDS}).items()}


def test_the_buckets_match_a_known_audit(db, venue, chain, settings):
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "chat": 1}
    set_primary(venue=venue, kind="chat", provider="simulated", model="gone")
    chain(
        "chat",
        [
            ("Keyless", "openrouter", "vendor/model"),  # skipped: OPENROUTER_API_KEY unset
            ("Flaky", "simulated", "server-error"),
            ("Answers", "simulated", "ok"),
        ],
    )
    audits = [cascade.run("chat", AIRequest(prompt="x"), venue=venue, service="t").attempts for _ in range(3)]

    tried = [a for attempts in audits for a in attempts if a.outcome != "skipped"]
    failures = [a for a in tried if a.outcome == "failed"]
    totals = _totals()
    assert totals["calls"] == len(tried) and totals["ok"] == 3
    assert totals["failed"] == len(failures)
    assert totals["fallback"] == 3  # every answer came after earlier legs failed
    assert totals["fail_model_not_found"] == sum(a.reason == "model_not_found" for a in failures) > 0
    assert totals["fail_server"] == sum(a.reason == "server" for a in failures) > 0
    assert totals["credits"] == 3
    assert totals["lat_le_250"] == 3  # the instant clock: answers take 0 ms
    per_candidate = dict(AttemptBucket.objects.filter(span=300).values_list("label", "calls"))
    expected: dict[str, int] = {}
    for attempt in tried:
        expected[attempt.label] = expected.get(attempt.label, 0) + 1
    assert per_candidate == expected
    # The hourly rows hold the same counts.
    hourly = AttemptBucket.objects.filter(span=3600).aggregate(calls=Sum("calls"), ok=Sum("ok"))
    assert hourly == {"calls": len(tried), "ok": 3}
    assert AttemptBucket.objects.get(span=300, label="Answers").bucket_start == datetime(
        2026, 11, 30, 12, 0, tzinfo=UTC
    )


def test_an_answer_from_the_first_leg_is_not_a_fallback(db, chain):
    chain("chat", [("Answers", "simulated", "ok")])
    cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert _totals()["fallback"] == 0 and _totals()["ok"] == 1


def test_an_exhausted_chain_is_counted_too(db, chain, exhaustions):
    chain("image", [("Refuses", "simulated", "sensitive"), ("Gone", "simulated", "gone")])
    with pytest.raises(ChainExhausted):
        cascade.run("image", AIRequest(prompt="x"), venue=None, service="t")
    totals = _totals()
    assert (totals["calls"], totals["failed"], totals["fail_safety"], totals["fail_model_not_found"]) == (
        2,
        2,
        1,
        1,
    )
    assert totals["credits"] == 0


def _attempt(outcome="ok", reason="", duration_ms=100, **extra) -> Attempt:
    return Attempt(
        label="L",
        provider="openai",
        model="gpt-4o",
        outcome=outcome,
        reason=reason,
        duration_ms=duration_ms,
        **extra,
    )


def test_latency_lands_in_its_histogram_bucket_and_percentiles_follow(db):
    from observe.health_stats import Totals

    for ms in (100, 300, 300, 700, 1500, 3000, 9000, 20000, 45000, 70000):
        record.record_attempt(
            kind="chat", service="t", candidate_key="openai|gpt-4o|x", attempt=_attempt(duration_ms=ms)
        )
    totals = Totals()
    totals.add(_totals())
    assert totals.histogram == [1, 2, 1, 1, 1, 0, 1, 1, 1, 1]
    assert totals.latency_sum_ms == sum((100, 300, 300, 700, 1500, 3000, 9000, 20000, 45000, 70000))
    assert 250 <= totals.p50_ms <= 2000
    assert totals.p95_ms == 60000  # the open-ended bucket reports its lower bound


def test_usage_and_estimated_cost_are_recorded_with_the_attempt(db):
    output = AIOutput(model="gpt-4o", text="hi", input_tokens=1000, output_tokens=500)
    recorded = record.record_attempt(
        kind="chat", service="t", candidate_key="openai|gpt-4o|x", attempt=_attempt(), output=output
    )
    assert recorded.input_tokens == 1000 and recorded.output_tokens == 500
    assert recorded.cost_usd == pytest.approx(0.0025 + 0.005)  # gpt-4o: $2.50 / $10 per million
    totals = _totals()
    assert totals["cost_micro_usd"] == 7500
    assert (totals["input_tokens"], totals["output_tokens"]) == (1000, 500)


def test_a_model_without_a_price_basis_has_no_cost(db):
    output = AIOutput(model="x", text="hi", input_tokens=10, output_tokens=5)
    recorded = record.record_attempt(
        kind="chat",
        service="t",
        candidate_key="openai|brand-new|x",
        attempt=Attempt(label="L", provider="openai", model="brand-new", outcome="ok"),
        output=output,
    )
    assert recorded.cost_usd is None


def test_a_failure_that_opens_the_breaker_is_counted_as_an_opening(db, settings, monkeypatch):
    settings.BREAKER_FAILURE_THRESHOLD = 2
    moments = iter(range(10_000, 10_100, 5))  # each failure 5 s after the previous one
    current = {"t": 0.0}
    monkeypatch.setattr(health, "now", lambda: current["t"])
    key = "openai|gpt-4o|https://api.openai.com/v1"
    for _ in range(3):
        current["t"] = float(next(moments))
        health.record_outcome(key, ok=False, reason="server")  # what the cascade does first
        record.record_attempt(
            kind="chat", service="t", candidate_key=key, attempt=_attempt("failed", "server")
        )
    assert _totals()["breaker_openings"] == 1  # the second failure opened it; the third found it open


def test_recording_never_raises_into_the_cascade(db, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(record, "_upsert", broken)
    monkeypatch.setattr(record, "_last_warning_at", -1e9)
    attempt = _attempt()
    assert record.record_attempt(kind="chat", service="t", candidate_key="k", attempt=attempt) == attempt
    assert "attempt not recorded in the aggregates (RuntimeError" in caplog.text


def test_buffered_counts_are_written_by_one_statement_on_flush(db, settings, django_assert_num_queries):
    settings.OBSERVE_FLUSH_SECONDS = 3600  # the timer will not fire during the test
    for model in ("a", "b", "a"):
        record.record_attempt(kind="chat", service="t", candidate_key=f"openai|{model}|x", attempt=_attempt())
    assert not AttemptBucket.objects.exists()
    with django_assert_num_queries(3):  # savepoint, the one UPSERT, release (inside the test's transaction)
        assert record.flush() == 4  # two candidates × (5-minute + hourly)
    assert _totals()["calls"] == 3
    if record._timer is not None:
        record._timer.cancel()
        record._timer = None


def test_probe_calls_are_kept_apart_from_venue_traffic(db):
    record.record_attempt(kind="chat", service=record.PROBE_SERVICE, candidate_key="k", attempt=_attempt())
    assert _totals(probe=False)["calls"] == 0
    probe = _totals(probe=True)
    assert probe["calls"] == 1 and probe["credits"] == 0


def test_prune_drops_buckets_older_than_the_retention(db, settings):
    settings.OBSERVE_RETENTION_DAYS = 30
    record.record_attempt(kind="chat", service="t", candidate_key="k", attempt=_attempt())
    kept = AttemptBucket.objects.count()
    assert prune(moment=datetime(2026, 12, 30, 12, 0, tzinfo=UTC)) == 0
    assert prune(moment=datetime(2026, 12, 31, 13, 0, tzinfo=UTC)) == kept
    assert not AttemptBucket.objects.exists()


def test_the_alert_audit_keeps_each_attempts_usage_and_cost(db):
    from alerts.record import record_exhaustion

    priced = record.with_usage(
        Attempt(label="GPT", provider="openai", model="gpt-4o", outcome="ok"),
        AIOutput(model="gpt-4o", text="x", input_tokens=2000, output_tokens=0),
    )
    failed = Attempt(
        label="Gone", provider="openai", model="gpt-x", outcome="failed", reason="model_not_found"
    )
    alert = record_exhaustion(kind="chat", service="t", venue=None, attempts=[failed, priced])
    rows = list(alert.attempts.values_list("label", "input_tokens", "cost_usd"))
    assert rows == [("Gone", None, None), ("GPT", 2000, pytest.approx(0.005))]


def test_the_prune_command_reports_what_it_deleted(db):
    from io import StringIO

    from django.core.management import call_command

    AttemptBucket.objects.create(
        bucket_start=datetime(2020, 1, 1, tzinfo=UTC), kind="chat", candidate="c", provider="p", model="m"
    )
    out = StringIO()
    call_command("prune_attempt_buckets", stdout=out)
    assert out.getvalue().strip() == "Deleted 1 attempt bucket."


def test_the_demo_seed_refuses_to_run_without_debug(db, settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_health_demo")
