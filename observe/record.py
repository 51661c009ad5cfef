"""Recording one cascade attempt: the aggregates (one UPSERT), the metrics and one log line.

`record_attempt(...)` is the one call the cascade makes from its audit (`resilience.cascade._audit`),
after each real try (skips are not tries). It never raises into the cascade: a database, metrics or
logging failure is logged (at most once a minute) and the attempt is returned unchanged.

Cost on the hot path: no query. Counts are added up in a per-process buffer, and a timer writes the
buffer every settings.OBSERVE_FLUSH_SECONDS (5 s) with ONE INSERT … ON CONFLICT DO UPDATE statement
(SQLite ≥ 3.24 and PostgreSQL share the syntax) that adds to the rows: atomic, so any number of app
servers add to the same bucket without losing a count. A process that dies loses at most those few
seconds of counts (it flushes at exit). With OBSERVE_FLUSH_SECONDS=0 (the tests) each attempt is
written at once. After a failure only, one cache read tells whether that failure opened the breaker.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import structlog
from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from alerts.attempts import Attempt
from observe import metrics
from observe.models import COUNTER_FIELDS, FAILURE_REASONS, LATENCY_BOUNDS_MS, LATENCY_FIELDS, AttemptBucket
from resilience import health
from resilience.provider_costs import estimate_cost
from resilience.types import AIOutput

logger = logging.getLogger(__name__)
attempt_log = structlog.get_logger("observe.attempt")

BUCKET_SECONDS = 300  # 5-minute buckets: a week for 20 candidates is ~40k rows
HOUR_SECONDS = 3600  # and hourly ones, for the 24-hour and 7-day views
SPANS = (BUCKET_SECONDS, HOUR_SECONDS)
# The `service` of the super admin's "Test candidate" calls: recorded as probes, never venue traffic.
PROBE_SERVICE = "admin.testCandidate"

# Replace in tests: seconds since the epoch, which decides the bucket.
now: Callable[[], float] = time.time

_WARN_EVERY_SECONDS = 60.0
_last_warning_at = -_WARN_EVERY_SECONDS
_UPSERT_SQL: dict[str, str] = {}


def candidate_hash(candidate_key: str) -> str:
    """The stored candidate id: a hash of provider|model|base URL, so no URL lands in the table."""
    import hashlib

    return hashlib.sha256(candidate_key.encode("utf-8")).hexdigest()[:32]


def bucket_of(moment: float, span: int = BUCKET_SECONDS) -> datetime:
    return datetime.fromtimestamp(int(moment) // span * span, UTC)


def latency_field(duration_ms: int) -> str:
    for bound, field in zip(LATENCY_BOUNDS_MS, LATENCY_FIELDS, strict=False):
        if duration_ms <= bound:
            return field
    return LATENCY_FIELDS[-1]


def is_fallback(attempt: Attempt, earlier: Sequence[Attempt]) -> bool:
    """An answer given after an earlier leg of the same walk failed, or was held back by its breaker.
    Legs skipped for configuration (no key, needs a reference) are not "the first one failing"."""
    if attempt.outcome != "ok":
        return False
    same = (attempt.label, attempt.provider, attempt.model)
    return any(
        (a.label, a.provider, a.model) != same and (a.outcome == "failed" or a.message == "breaker open")
        for a in earlier
    )


def with_usage(attempt: Attempt, output: AIOutput | None) -> Attempt:
    """The attempt with the answer's usage and estimated cost (unchanged without an answer)."""
    if output is None:
        return attempt
    cost = estimate_cost(
        attempt.provider,
        attempt.model,
        input_tokens=output.input_tokens,
        output_tokens=output.output_tokens,
        images=output.images,
    )
    return replace(
        attempt,
        input_tokens=output.input_tokens,
        output_tokens=output.output_tokens,
        images=output.images,
        cost_usd=cost,
    )


def record_attempt(
    *,
    kind: str,
    service: str,
    candidate_key: str,
    attempt: Attempt,
    output: AIOutput | None = None,
    earlier: Sequence[Attempt] = (),
    venue_id: int | None = None,
    request_id: str = "",
) -> Attempt:
    """Count one real try of a candidate (ok or failed) and return it with usage and cost filled in.

    `output` is the answer (None on failure); `earlier` the walk's attempts before this one (to tell a
    fallback answer); `service == PROBE_SERVICE` marks a super admin's test call (kept apart, no
    credits). Never raises.
    """
    try:
        attempt = with_usage(attempt, output)
        probe = service == PROBE_SERVICE
        fallback = is_fallback(attempt, earlier)
        opened = _breaker_opened(candidate_key, attempt)
        _upsert(kind, candidate_key, attempt, probe=probe, fallback=fallback, opened=opened)
        metrics.observe_attempt(kind, attempt, probe=probe, fallback=fallback, opened=opened)
        attempt_log.info(
            "ai_attempt",
            request_id=request_id,
            venue=venue_id,
            kind=kind,
            service=service,
            candidate=attempt.label,
            provider=attempt.provider,
            model=attempt.model,
            outcome=attempt.outcome,
            reason=attempt.reason,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            fallback=fallback,
            probe=probe,
            cost_usd=attempt.cost_usd,
        )
    except Exception as exc:  # observability must never break the chain it observes
        _warn(exc)
    return attempt


def _breaker_opened(candidate_key: str, attempt: Attempt) -> bool:
    """Did this failure open (or re-open) the breaker? Only then is it open with a full cool-down
    ahead (within a second). Approximate across processes: a racing failure in that second counts
    too. Successes never open it, so they cost no cache read."""
    if attempt.outcome != "failed" or attempt.reason not in health.COUNTABLE_REASONS:
        return False
    state = health.candidate_health(candidate_key)
    if state.state != "open" or state.retry_at is None:
        return False
    return state.retry_at - health.now() >= settings.BREAKER_COOLDOWN_SECONDS - 1


def _counts(kind: str, attempt: Attempt, *, probe: bool, fallback: bool, opened: bool) -> dict[str, int]:
    ok = attempt.outcome == "ok"
    duration = max(0, int(attempt.duration_ms))
    counts = dict.fromkeys(COUNTER_FIELDS, 0)
    counts["calls"] = 1
    counts["ok" if ok else "failed"] = 1
    counts["fallback"] = int(fallback)
    counts["breaker_openings"] = int(opened)
    if ok:
        counts["latency_sum_ms"] = duration
        counts[latency_field(duration)] = 1
        counts["credits"] = 0 if probe else int(settings.CREDIT_COSTS.get(kind, 0))
    elif attempt.reason in FAILURE_REASONS:
        counts[f"fail_{attempt.reason}"] = 1
    counts["cost_micro_usd"] = round((attempt.cost_usd or 0.0) * 1_000_000)
    counts["input_tokens"] = attempt.input_tokens or 0
    counts["output_tokens"] = attempt.output_tokens or 0
    counts["images"] = attempt.images or 0
    return counts


def _upsert_sql(connection: BaseDatabaseWrapper, rows: int) -> str:
    """INSERT … VALUES (…), (…) ON CONFLICT (the bucket's identity) DO UPDATE SET each counter =
    counter + new: the same text on SQLite and PostgreSQL, built once per vendor and row count from
    the model's own column names. The buffer's keys are unique, so no row is hit twice."""
    cache_key = f"{connection.vendor}:{rows}"
    if cache_key not in _UPSERT_SQL:
        q = connection.ops.quote_name
        table = q(AttemptBucket._meta.db_table)
        # No field sets db_column: the column names are the field names.
        names = [q(name) for name in (*IDENTITY, *DESCRIPTION, *COUNTER_FIELDS)]
        updates = [f"{q('label')} = EXCLUDED.{q('label')}"] + [
            f"{q(name)} = {table}.{q(name)} + EXCLUDED.{q(name)}" for name in COUNTER_FIELDS
        ]
        one_row = f"({', '.join(['%s'] * len(names))})"
        _UPSERT_SQL[cache_key] = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([one_row] * rows)} "
            f"ON CONFLICT ({', '.join(q(name) for name in IDENTITY)}) DO UPDATE SET {', '.join(updates)}"
        )
    return _UPSERT_SQL[cache_key]


# --- The buffer: counts are added up in memory and written by one statement every few seconds ----

IDENTITY = ("bucket_start", "span", "kind", "candidate", "probe")
DESCRIPTION = ("provider", "model", "label")
_lock = threading.Lock()
_buffer: dict[tuple[datetime, int, str, str, bool], tuple[tuple[str, str, str], dict[str, int]]] = {}
_timer: threading.Timer | None = None


def _upsert(
    kind: str, candidate_key: str, attempt: Attempt, *, probe: bool, fallback: bool, opened: bool
) -> None:
    """Add the attempt to its two buckets (5-minute, hourly) in the buffer; with
    OBSERVE_FLUSH_SECONDS 0, write them now."""
    global _timer
    moment = now()
    description = (attempt.provider[:50], attempt.model[:200], attempt.label[:200])
    added = _counts(kind, attempt, probe=probe, fallback=fallback, opened=opened)
    with _lock:
        for span in SPANS:
            key = (bucket_of(moment, span), span, kind[:20], candidate_hash(candidate_key), probe)
            held = _buffer.get(key)
            counts = dict(added) if held is None else {name: held[1][name] + added[name] for name in added}
            _buffer[key] = (description, counts)
        write_now = settings.OBSERVE_FLUSH_SECONDS <= 0
        if not write_now and _timer is None:
            _timer = threading.Timer(settings.OBSERVE_FLUSH_SECONDS, _flush_from_timer)
            _timer.daemon = True
            _timer.start()
    if write_now:
        flush()


def flush() -> int:
    """Write every buffered bucket with one UPSERT statement; returns how many rows it touched.
    Called by the timer, at exit, and by tests and benchmarks. A failed write is logged and dropped
    (the counts are an observation, not a ledger)."""
    with _lock:
        pending = list(_buffer.items())
        _buffer.clear()
    if not pending:
        return 0
    connection = connections[AttemptBucket.objects.db]
    params: list[Any] = []
    for (bucket, span, kind, candidate, probe), (description, counts) in pending:
        params += [
            connection.ops.adapt_datetimefield_value(bucket),
            span,
            kind,
            candidate,
            probe,
            *description,
        ]
        params += [counts[name] for name in COUNTER_FIELDS]
    sql = _upsert_sql(connection, len(pending))
    try:
        # Inside a caller's transaction: a savepoint, so a failed write cannot poison it.
        with transaction.atomic(using=connection.alias, savepoint=connection.in_atomic_block):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    except Exception as exc:
        _warn(exc)
        return 0
    return len(pending)


def _flush_from_timer() -> None:
    global _timer
    with _lock:
        _timer = None
    try:
        flush()
    finally:
        # This thread's own database connection: close it, the thread ends here.
        for connection in connections.all(initialized_only=True):
            connection.close()


def discard_buffer() -> None:
    """Forget unwritten counts (tests)."""
    with _lock:
        _buffer.clear()


atexit.register(flush)


def _warn(exc: BaseException) -> None:
    global _last_warning_at
    moment = time.monotonic()
    if moment - _last_warning_at >= _WARN_EVERY_SECONDS:
        _last_warning_at = moment
        logger.warning("attempt not recorded in the aggregates (%s: %s)", type(exc).__name__, exc)
