"""Attempt aggregates: one row per chain candidate per time bucket, written by the cascade's audit.

The health page reads these instead of the raw attempts, so it stays fast with millions of attempts:
a week for 20 candidates is about 40,000 5-minute rows and 3,400 hourly rows.
Rows are kept `settings.OBSERVE_RETENTION_DAYS` (30) days; `manage.py prune_attempt_buckets` drops older
ones (run it daily from cron).
"""

from __future__ import annotations

from django.db import models

# Upper bounds (ms) of the latency histogram of *answered* attempts; the last bucket is open-ended.
# Fixed buckets (like Prometheus histograms) can be summed across rows, so p50/p95 over any window
# come from one SUM per bucket, interpolated within the bucket that holds the percentile.
LATENCY_BOUNDS_MS = (250, 500, 1000, 2000, 4000, 8000, 15000, 30000, 60000)
LATENCY_FIELDS = tuple(f"lat_le_{bound}" for bound in LATENCY_BOUNDS_MS) + ("lat_over",)

# A column per failure reason (resilience.errors.Reason, minus `skipped`: no call was made).
FAILURE_REASONS = (
    "safety",
    "rate_limit",
    "quota",
    "model_not_found",
    "auth",
    "timeout",
    "server",
    "bad_request",
    "malformed_response",
)
REASON_FIELDS = tuple(f"fail_{reason}" for reason in FAILURE_REASONS)

# Every counter the UPSERT adds to (`column = column + EXCLUDED.column`).
COUNTER_FIELDS = (
    ("calls", "ok", "fallback", "failed", "latency_sum_ms")
    + REASON_FIELDS
    + LATENCY_FIELDS
    + ("credits", "cost_micro_usd", "input_tokens", "output_tokens", "images", "breaker_openings")
)


def _counter() -> models.BigIntegerField[int, int]:
    return models.BigIntegerField(default=0)


class AttemptBucket(models.Model):
    """What one candidate did in one time bucket (`bucket_start`, `span` seconds wide).

    Invariants: one row per (bucket_start, span, kind, candidate, probe); every attempt is counted
    once in its 5-minute row and once in its hourly row; only ever added to by one atomic
    UPSERT per attempt (`observe.record.record_attempt`), so concurrent app servers never lose a
    count. `candidate` is a hash of the candidate key (provider, model, base URL): no URL is stored.
    `probe` rows are the super admin's "Test candidate" calls, kept apart from venue traffic.
    `calls` = `ok` + `failed`; `fallback` counts answers given after an earlier leg of the same walk
    failed or was held back by its breaker; latency columns count answered attempts only.
    """

    bucket_start = models.DateTimeField()
    # Two resolutions of the same counts: 5-minute rows (the last hour, to the minute) and hourly rows
    # (24 hours and 7 days read 12× fewer rows). Both come from the same flush, at no cost to the call.
    span = models.PositiveIntegerField(default=300)  # seconds: 300 or 3600
    kind = models.CharField(max_length=20)
    candidate = models.CharField(max_length=32)
    probe = models.BooleanField(default=False)
    provider = models.CharField(max_length=50)
    model = models.CharField(max_length=200)
    label = models.CharField(max_length=200, blank=True, default="")  # the latest label seen

    calls = _counter()
    ok = _counter()
    fallback = _counter()
    failed = _counter()
    latency_sum_ms = _counter()
    fail_safety = _counter()
    fail_rate_limit = _counter()
    fail_quota = _counter()
    fail_model_not_found = _counter()
    fail_auth = _counter()
    fail_timeout = _counter()
    fail_server = _counter()
    fail_bad_request = _counter()
    fail_malformed_response = _counter()
    lat_le_250 = _counter()
    lat_le_500 = _counter()
    lat_le_1000 = _counter()
    lat_le_2000 = _counter()
    lat_le_4000 = _counter()
    lat_le_8000 = _counter()
    lat_le_15000 = _counter()
    lat_le_30000 = _counter()
    lat_le_60000 = _counter()
    lat_over = _counter()
    # Credits for this candidate's answers at the kind's default price (settings.CREDIT_COSTS): a venue
    # whose primary is a pricier model pays more (resilience.pricing); the ledger has the exact sums.
    credits = _counter()
    cost_micro_usd = _counter()  # estimated provider cost, millionths of a USD (resilience.provider_costs)
    input_tokens = _counter()
    output_tokens = _counter()
    images = _counter()
    breaker_openings = _counter()

    class Meta:
        indexes = [models.Index(fields=["span", "bucket_start"], name="attemptbucket_span_start")]
        constraints = [
            models.UniqueConstraint(
                fields=["bucket_start", "span", "kind", "candidate", "probe"], name="one_bucket_per_candidate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.provider}/{self.model} @ {self.bucket_start:%Y-%m-%d %H:%M}"
