"""Provider health over time, from the attempt aggregates: what the super admin's health page shows.

`health_report(window)` answers, per service kind and per candidate, for the last hour / 24 hours /
7 days: calls, success rate, fallback share, p50/p95 latency, failure reasons, breaker state and
openings, credits and estimated provider cost, plus the time series the charts draw. Four database
queries whatever the traffic (the aggregates are per candidate per 5 minutes); breaker state comes
from the cache (resilience.health). Probe calls ("Test candidate") are reported apart, never mixed
into venue traffic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from django.db.models import Max, Q, Sum
from django.utils import timezone

from observe.models import FAILURE_REASONS, LATENCY_BOUNDS_MS, LATENCY_FIELDS, REASON_FIELDS, AttemptBucket
from observe.record import BUCKET_SECONDS, HOUR_SECONDS, candidate_hash
from resilience import health
from resilience.models import ChainCandidate
from resilience.types import KIND_LABELS, SERVICE_KINDS


@dataclass(frozen=True)
class Window:
    key: str
    label: str
    span: timedelta
    step: timedelta  # one chart point


WINDOWS = {
    "1h": Window("1h", "Last hour", timedelta(hours=1), timedelta(seconds=BUCKET_SECONDS)),
    "24h": Window("24h", "Last 24 hours", timedelta(hours=24), timedelta(hours=1)),
    "7d": Window("7d", "Last 7 days", timedelta(days=7), timedelta(hours=3)),
}
DEFAULT_WINDOW = "24h"

_REASON_COLUMNS = tuple(zip(FAILURE_REASONS, REASON_FIELDS, strict=True))
_SUMMED = (
    "calls",
    "ok",
    "fallback",
    "failed",
    "latency_sum_ms",
    "credits",
    "cost_micro_usd",
    "breaker_openings",
)


def percentile_ms(histogram: list[int], q: float) -> int | None:
    """The q-quantile (0–1) of answered latencies from the fixed-bucket histogram, interpolated
    linearly inside its bucket; None without answers. The open last bucket reports its lower bound."""
    total = sum(histogram)
    if total == 0:
        return None
    target = q * total
    seen = 0
    lower = 0
    for count, upper in zip(histogram, (*LATENCY_BOUNDS_MS, None), strict=True):
        if count and seen + count >= target:
            if upper is None:
                return lower
            return round(lower + (upper - lower) * (target - seen) / count)
        seen += count
        lower = upper if upper is not None else lower
    return lower


@dataclass
class Totals:
    """Summed counters of some rows (a candidate, a kind, a chart point)."""

    calls: int = 0
    ok: int = 0
    fallback: int = 0
    failed: int = 0
    latency_sum_ms: int = 0
    credits: int = 0
    cost_micro_usd: int = 0
    breaker_openings: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    histogram: list[int] = field(default_factory=lambda: [0] * len(LATENCY_FIELDS))

    def add(self, row: dict[str, Any]) -> None:
        # The page's hot loop (a 7-day view adds ~2,000 rows): skip zeros, int() only what is there
        # (PostgreSQL sums bigint as numeric, which psycopg gives as Decimal).
        for name in _SUMMED:
            value = row.get(name)
            if value:
                setattr(self, name, getattr(self, name) + int(value))
        reasons = self.reasons
        for reason, column in _REASON_COLUMNS:
            value = row.get(column)
            if value:
                reasons[reason] = reasons.get(reason, 0) + int(value)
        histogram = self.histogram
        for i, column in enumerate(LATENCY_FIELDS):
            value = row.get(column)
            if value:
                histogram[i] += int(value)

    @property
    def success_rate(self) -> float | None:
        return self.ok / self.calls if self.calls else None

    @property
    def success_percent(self) -> str:
        rate = self.success_rate
        return "—" if rate is None else f"{rate * 100:.1f}%"

    @property
    def fallback_percent(self) -> str:
        return "—" if not self.ok else f"{self.fallback / self.ok * 100:.1f}%"

    @property
    def p50_ms(self) -> int | None:
        return percentile_ms(self.histogram, 0.50)

    @property
    def p95_ms(self) -> int | None:
        return percentile_ms(self.histogram, 0.95)

    @property
    def cost_usd(self) -> float:
        return self.cost_micro_usd / 1_000_000

    @property
    def reasons_sorted(self) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class CandidateRow:
    kind: str
    candidate: str  # the stored hash
    label: str
    provider: str
    model: str
    priority: int | None  # position in the chain today; None = no longer in it (or a venue primary)
    totals: Totals = field(default_factory=Totals)
    probes: Totals = field(default_factory=Totals)
    breaker: health.CandidateHealth | None = None
    series: list[Totals] = field(default_factory=list)


@dataclass
class KindReport:
    kind: str
    label: str
    totals: Totals
    by_window: dict[str, Totals]
    candidates: list[CandidateRow]
    series: list[Totals]
    points: list[datetime]


# What a chart point needs (fewer columns: the 7-day view has a point per candidate per 3 hours).
SERIES = ("calls", "ok", "fallback", "failed", *LATENCY_FIELDS)


def _sums(columns: tuple[str, ...] = (*_SUMMED, *REASON_FIELDS, *LATENCY_FIELDS)) -> dict[str, Sum]:
    return {name: Sum(name) for name in columns}


def _dicts(rows: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """values() rows, typed as the plain dicts they are (their TypedDicts differ per query)."""
    return cast(Iterable[dict[str, Any]], rows)


def _span(window: Window) -> int:
    return BUCKET_SECONDS if window.step.total_seconds() == BUCKET_SECONDS else HOUR_SECONDS


def _points(window: Window, moment: datetime) -> list[datetime]:
    step = window.step.total_seconds()
    end = datetime.fromtimestamp(moment.timestamp() // step * step, moment.tzinfo)
    count = int(window.span.total_seconds() // step)
    return [end - window.step * i for i in range(count - 1, -1, -1)]


def health_report(window_key: str = DEFAULT_WINDOW, *, moment: datetime | None = None) -> list[KindReport]:
    """Per kind (chain order), per candidate: the window's numbers, the breaker, the chart series.
    Four queries: candidate totals, per-kind totals for all three windows, the time series, the chains."""
    window = WINDOWS[window_key]
    moment = moment or timezone.now()
    points = _points(window, moment)
    # The window's own resolution: 5-minute rows for the hour, hourly rows for 24 h and 7 days.
    recent = AttemptBucket.objects.filter(span=_span(window), bucket_start__gte=points[0])

    # 1. Per candidate (and probe or not) over the window.
    rows: dict[tuple[str, str], CandidateRow] = {}
    per_candidate = recent.values("kind", "candidate", "probe").annotate(
        label_=Max("label"), provider_=Max("provider"), model_=Max("model"), **_sums()
    )
    for row in _dicts(per_candidate):
        item = rows.setdefault(
            (row["kind"], row["candidate"]),
            CandidateRow(row["kind"], row["candidate"], row["label_"], row["provider_"], row["model_"], None),
        )
        (item.probes if row["probe"] else item.totals).add(row)

    # 2. Calls and answers per kind for each of the three windows (venue traffic only).
    # Hourly rows for the week and 5-minute rows for the hour only (an index on span, bucket_start).
    week = AttemptBucket.objects.filter(
        Q(span=HOUR_SECONDS, bucket_start__gte=_points(WINDOWS["7d"], moment)[0])
        | Q(span=BUCKET_SECONDS, bucket_start__gte=_points(WINDOWS["1h"], moment)[0]),
        probe=False,
    )
    summary_columns: dict[str, Any] = {}
    for key, other in WINDOWS.items():
        in_window = Q(span=_span(other), bucket_start__gte=_points(other, moment)[0])
        for name in ("calls", "ok", "fallback"):
            summary_columns[f"{key}_{name}"] = Sum(name, filter=in_window)
    by_window: dict[str, dict[str, Totals]] = {}
    for row in _dicts(week.values("kind").annotate(**summary_columns)):
        by_window[row["kind"]] = {
            key: Totals(
                calls=row[f"{key}_calls"] or 0, ok=row[f"{key}_ok"] or 0, fallback=row[f"{key}_fallback"] or 0
            )
            for key in WINDOWS
        }

    # 3. The time series: per candidate per chart point.
    step = window.step.total_seconds()
    series_rows = (
        recent.filter(probe=False).values("kind", "candidate", "bucket_start").annotate(**_sums(SERIES))
    )
    for row in _dicts(series_rows):
        found = rows.get((row["kind"], row["candidate"]))
        position = int((row["bucket_start"] - points[0]).total_seconds() // step)
        if found is None or not 0 <= position < len(points):
            continue
        if not found.series:
            found.series = [Totals() for _ in points]
        found.series[position].add(row)

    # 4. Today's chains: order, labels, and candidates with no traffic yet.
    for chain_row in ChainCandidate.objects.filter(enabled=True).order_by("kind", "priority"):
        key = health.candidate_key(chain_row.provider, chain_row.model, chain_row.base_url)
        item = rows.setdefault(
            (chain_row.kind, candidate_hash(key)),
            CandidateRow(
                chain_row.kind,
                candidate_hash(key),
                chain_row.label,
                chain_row.provider,
                chain_row.model,
                None,
            ),
        )
        if item.priority is None:
            item.priority = chain_row.priority
            item.label = chain_row.label
            item.breaker = health.candidate_health(key)

    return [_kind_report(kind, rows, by_window, points, window) for kind in SERVICE_KINDS]


def _kind_report(
    kind: str,
    rows: dict[tuple[str, str], CandidateRow],
    by_window: dict[str, dict[str, Totals]],
    points: list[datetime],
    window: Window,
) -> KindReport:
    candidates = sorted(
        (row for (row_kind, _), row in rows.items() if row_kind == kind),
        key=lambda row: (row.priority is None, row.priority or 0, -row.totals.calls, row.label),
    )
    totals = Totals()
    series = [Totals() for _ in points]
    for row in candidates:
        _merge(totals, row.totals)
        if not row.series:
            row.series = [Totals() for _ in points]
        for target, source in zip(series, row.series, strict=True):
            _merge(target, source)
    empty = {key: Totals() for key in WINDOWS}
    return KindReport(kind, KIND_LABELS[kind], totals, by_window.get(kind, empty), candidates, series, points)


def _merge(target: Totals, source: Totals) -> None:
    for name in _SUMMED:
        setattr(target, name, getattr(target, name) + getattr(source, name))
    for reason, count in source.reasons.items():
        target.reasons[reason] = target.reasons.get(reason, 0) + count
    for i, count in enumerate(source.histogram):
        target.histogram[i] += count
