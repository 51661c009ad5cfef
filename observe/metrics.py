"""Prometheus metrics (prometheus_client): per-attempt counters and histograms, plus values computed
from shared state at scrape time.

Attempt metrics (`btm_ai_*`) are counted in process by `observe.record.record_attempt`. Under gunicorn
with several workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory before the app starts:
prometheus_client then keeps each worker's values in files there and `/metrics` merges them
(README "Metrics"). Without it, each worker reports its own counts (fine for one process).

Breaker state, credits charged/refunded and jobs are read at scrape time from the cache and the
database, which every process shares, so they are right in any deployment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from alerts.attempts import Attempt
from observe.models import LATENCY_BOUNDS_MS

ATTEMPT_LABELS = ("kind", "provider", "model", "outcome", "reason", "traffic")
CANDIDATE_LABELS = ("kind", "provider", "model")

# Our own registry (not the process-global default), so tests and the multiprocess collector see
# exactly these metrics.
REGISTRY = CollectorRegistry(auto_describe=True)

ATTEMPTS = Counter(
    "btm_ai_attempts",
    "AI provider calls by outcome and normalised failure reason (traffic: venue or probe).",
    ATTEMPT_LABELS,
    registry=REGISTRY,
)
DURATION = Histogram(
    "btm_ai_attempt_duration_seconds",
    "Wall-clock duration of AI provider calls.",
    ("kind", "provider", "model", "outcome"),
    buckets=tuple(bound / 1000 for bound in LATENCY_BOUNDS_MS) + (float("inf"),),
    registry=REGISTRY,
)
FALLBACK_ANSWERS = Counter(
    "btm_ai_fallback_answers",
    "Answers given after an earlier leg of the same chain walk failed.",
    CANDIDATE_LABELS,
    registry=REGISTRY,
)
COST = Counter(
    "btm_ai_estimated_cost_usd",
    "Estimated provider cost of answers, USD (resilience.provider_costs; estimates).",
    CANDIDATE_LABELS,
    registry=REGISTRY,
)
TOKENS = Counter(
    "btm_ai_tokens", "Tokens reported by providers.", (*CANDIDATE_LABELS, "direction"), registry=REGISTRY
)
BREAKER_OPENINGS = Counter(
    "btm_ai_breaker_openings",
    "Times a failure opened a candidate's breaker.",
    CANDIDATE_LABELS,
    registry=REGISTRY,
)

BREAKER_STATE_VALUES = {"closed": 0, "half_open": 1, "open": 2}


def observe_attempt(kind: str, attempt: Attempt, *, probe: bool, fallback: bool, opened: bool) -> None:
    """Count one attempt (called by observe.record; may raise, the caller swallows)."""
    traffic = "probe" if probe else "venue"
    ATTEMPTS.labels(kind, attempt.provider, attempt.model, attempt.outcome, attempt.reason, traffic).inc()
    DURATION.labels(kind, attempt.provider, attempt.model, attempt.outcome).observe(
        attempt.duration_ms / 1000
    )
    if probe:
        return
    candidate = (kind, attempt.provider, attempt.model)
    if fallback:
        FALLBACK_ANSWERS.labels(*candidate).inc()
    if attempt.cost_usd:
        COST.labels(*candidate).inc(attempt.cost_usd)
    if attempt.input_tokens:
        TOKENS.labels(*candidate, "input").inc(attempt.input_tokens)
    if attempt.output_tokens:
        TOKENS.labels(*candidate, "output").inc(attempt.output_tokens)
    if opened:
        BREAKER_OPENINGS.labels(*candidate).inc()


class SharedStateCollector(Collector):
    """Values every process agrees on, computed at scrape time: the breaker state of each enabled
    chain candidate (cache), credits charged and refunded (ledger), jobs by status (when a jobs app
    exists). Three database queries per scrape at most."""

    def collect(self) -> Iterator[Any]:
        yield self._breakers()
        yield from self._credits()
        yield from jobs_gauges()

    def _breakers(self) -> GaugeMetricFamily:
        from resilience import health
        from resilience.models import ChainCandidate

        family = GaugeMetricFamily(
            "btm_ai_breaker_state",
            "Circuit breaker per enabled chain candidate: 0 closed, 1 half-open, 2 open.",
            labels=CANDIDATE_LABELS,
        )
        rows = ChainCandidate.objects.filter(enabled=True).values_list(
            "kind", "provider", "model", "base_url"
        )
        seen: set[tuple[str, str, str]] = set()
        for kind, provider, model, base_url in rows:
            if (kind, provider, model) in seen:
                continue
            seen.add((kind, provider, model))
            state = health.candidate_health(health.candidate_key(provider, model, base_url)).state
            family.add_metric([kind, provider, model], BREAKER_STATE_VALUES[state])
        return family

    def _credits(self) -> Iterator[CounterMetricFamily]:
        from django.db.models import Sum

        from credits.models import LedgerEntry

        totals = dict(
            LedgerEntry.objects.filter(kind__in=["charge", "refund"])
            .values_list("kind")
            .annotate(total=Sum("amount"))
            .values_list("kind", "total")
        )
        charged = CounterMetricFamily(
            "btm_credits_charged", "Credits charged to venues for AI calls (all time)."
        )
        charged.add_metric([], abs(totals.get("charge") or 0))
        refunded = CounterMetricFamily(
            "btm_credits_refunded", "Credits refunded to venues after failed AI calls (all time)."
        )
        refunded.add_metric([], abs(totals.get("refund") or 0))
        yield charged
        yield refunded


def jobs_gauges() -> Iterator[GaugeMetricFamily]:
    """`btm_jobs{status="queued"|"running"}`: the venues' AI jobs waiting for or held by a task worker,
    one GROUP BY at scrape time. The model is looked up by name: composer sits above observe, and the
    metrics must not import it."""
    from django.apps import apps
    from django.db.models import Count

    job = apps.get_model("composer", "Job")
    counts = dict(
        job.objects.filter(status__in=("queued", "running"))
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    family = GaugeMetricFamily(
        "btm_jobs", "AI jobs queued for or running on a task worker.", labels=["status"]
    )
    for status in ("queued", "running"):
        family.add_metric([status], counts.get(status, 0))
    yield family


def exposition() -> tuple[bytes, str]:
    """The scrape body and its content type. In multiprocess mode (PROMETHEUS_MULTIPROC_DIR set), the
    attempt metrics come merged from every worker's files."""
    from prometheus_client import CONTENT_TYPE_LATEST, multiprocess

    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in (ATTEMPTS, DURATION, FALLBACK_ANSWERS, COST, TOKENS, BREAKER_OPENINGS):
            registry.register(collector)
    registry.register(SharedStateCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
