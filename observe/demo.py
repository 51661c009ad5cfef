"""A realistic week of attempt aggregates, for the health page's demo, screenshots and benchmark.

`seed_week(...)` writes 5-minute buckets for every enabled chain candidate (plus a few venue primaries
that are not in the chains), simulating the walk in aggregate: venue requests follow a restaurant's
day (lunch and dinner peaks), each candidate answers most of what reaches it, and what it fails moves
on to the next one (answered there as a fallback). Two incidents make the charts worth reading:
yesterday evening KIE Nano Banana 2 went down for two hours (server errors and timeouts, breaker
openings, Nano Banana Pro answering instead), and this morning OpenRouter rate-limited Claude.
Deterministic for a given `seed`. Never called by the app itself.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from observe.models import COUNTER_FIELDS, LATENCY_BOUNDS_MS, LATENCY_FIELDS, AttemptBucket
from observe.record import BUCKET_SECONDS, HOUR_SECONDS, candidate_hash
from resilience import health
from resilience.models import ChainCandidate
from resilience.provider_costs import estimate_cost

# Venue requests per 5 minutes at the daily average, per kind (≈ 1 million attempts a week in all).
REQUESTS_PER_BUCKET = {"image": 190, "chat": 290, "ocr": 40, "embedding": 380}
# Median latency of answers (ms) and typical usage per answer, per kind.
MEDIAN_MS = {"image": 9000, "chat": 1400, "ocr": 4200, "embedding": 180}
USAGE = {
    "image": {"images": 1},
    "chat": {"input_tokens": 320, "output_tokens": 90},
    "ocr": {"input_tokens": 1600, "output_tokens": 420, "images": 1},
    "embedding": {"input_tokens": 14},
}
EXTRA_PRIMARIES = [  # venue primaries outside the chains (kind, label, provider, model)
    ("chat", "Venue primary: OpenAI gpt-5", "openai", "gpt-5"),
    ("chat", "Venue primary: Anthropic claude-haiku-4-5-20251001", "anthropic", "claude-haiku-4-5-20251001"),
    (
        "image",
        "Venue primary: OpenRouter google/gemini-2.5-flash-image",
        "openrouter",
        "google/gemini-2.5-flash-image",
    ),
    ("ocr", "Venue primary: OpenAI gpt-4o", "openai", "gpt-4o"),
    ("embedding", "Venue primary: OpenAI text-embedding-3-large", "openai", "text-embedding-3-large"),
]


@dataclass
class _Leg:
    kind: str
    label: str
    provider: str
    model: str
    key: str
    share: float = 1.0  # of the kind's requests that start here (primaries take a slice)


def _legs() -> dict[str, list[_Leg]]:
    legs: dict[str, list[_Leg]] = {}
    for row in ChainCandidate.objects.filter(enabled=True).order_by("kind", "priority"):
        key = health.candidate_key(row.provider, row.model, row.base_url)
        legs.setdefault(row.kind, []).append(_Leg(row.kind, row.label, row.provider, row.model, key))
    return legs


def _diurnal(moment: datetime) -> float:
    hour = moment.hour + moment.minute / 60
    lunch = math.exp(-(((hour - 12.5) / 1.6) ** 2))
    dinner = math.exp(-(((hour - 19.0) / 2.0) ** 2))
    return 0.15 + 1.3 * lunch + 1.6 * dinner


def _failure_rate(leg: _Leg, position: int, moment: datetime, now: datetime) -> tuple[float, str, float]:
    """(failure probability, main reason, latency factor) for this leg at this moment."""
    yesterday_evening = (now - timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
    if leg.model == "nano-banana-2" and yesterday_evening <= moment < yesterday_evening + timedelta(hours=2):
        return 0.92, "server", 2.5
    this_morning = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if now.hour < 9:
        this_morning -= timedelta(days=1)
    if leg.model == "anthropic/claude-sonnet-4.6" and this_morning <= moment < this_morning + timedelta(
        minutes=50
    ):
        return 0.55, "rate_limit", 1.3
    if leg.model == "gpt-image-2":
        return 0.06, "safety", 1.0
    base = 0.012 + 0.01 * position
    return base, "server", 1.0


def _histogram(answers: int, median_ms: float, rng: random.Random) -> list[int]:
    """`answers` spread over the fixed latency buckets as a log-normal around `median_ms`."""
    sigma = 0.45
    cdf = [
        0.5 * (1 + math.erf(math.log(bound / median_ms) / (sigma * math.sqrt(2))))
        for bound in LATENCY_BOUNDS_MS
    ]
    probabilities = [b - a for a, b in zip([0.0, *cdf], [*cdf, 1.0], strict=True)]
    counts = [int(answers * p) for p in probabilities]
    for _ in range(answers - sum(counts)):
        counts[rng.choices(range(len(counts)), probabilities)[0]] += 1
    return counts


def seed_week(*, days: int = 7, seed: int = 7, moment: datetime | None = None, scale: float = 1.0) -> int:
    """Replace the aggregates of the last `days` days with simulated traffic; returns the attempts
    (calls) written. `scale` multiplies the request rates."""
    rng = random.Random(seed)
    now = moment or timezone.now()
    end = datetime.fromtimestamp(now.timestamp() // BUCKET_SECONDS * BUCKET_SECONDS, now.tzinfo)
    start = end - timedelta(days=days)
    legs = _legs()
    for kind, label, provider, model in EXTRA_PRIMARIES:
        if kind in legs:
            key = health.candidate_key(provider, model, "")
            legs[kind].insert(0, _Leg(kind, label, provider, model, key, share=0.08))
    AttemptBucket.objects.filter(bucket_start__gte=start - timedelta(hours=1), probe=False).delete()
    rows: list[AttemptBucket] = []
    total = 0
    moment_ = start
    while moment_ < end:
        for kind, chain in legs.items():
            requests = rng.gauss(1.0, 0.12) * REQUESTS_PER_BUCKET[kind] * scale * _diurnal(moment_)
            requests = max(0, round(requests))
            primaries = [leg for leg in chain if leg.share < 1.0]
            walkers = [leg for leg in chain if leg.share >= 1.0]
            for primary in primaries:  # a venue primary: its failures walk the whole chain
                served = round(requests * primary.share)
                requests -= served
                leftover = _leg_row(rows, primary, 0, served, moment_, now, rng, first=True)
                requests += leftover
            reaching = requests
            for position, leg in enumerate(walkers):
                if reaching <= 0:
                    break
                reaching = _leg_row(rows, leg, position, reaching, moment_, now, rng, first=position == 0)
        moment_ += timedelta(seconds=BUCKET_SECONDS)
        if moment_.minute == 0 and len(rows) >= 5000:  # whole hours only: their hourly rows are complete
            total += _write(rows)
    total += _write(rows)
    return total


def _leg_row(
    rows: list[AttemptBucket],
    leg: _Leg,
    position: int,
    calls: int,
    moment: datetime,
    now: datetime,
    rng: random.Random,
    *,
    first: bool,
) -> int:
    """Append this leg's bucket; returns how many requests it failed (they move on)."""
    if calls <= 0:
        return 0
    rate, reason, slow = _failure_rate(leg, position, moment, now)
    failed = (
        sum(1 for _ in range(calls) if rng.random() < rate)
        if calls < 50
        else round(calls * rate * rng.uniform(0.7, 1.3))
    )
    failed = min(calls, failed)
    ok = calls - failed
    row = AttemptBucket(
        bucket_start=moment,
        kind=leg.kind,
        candidate=candidate_hash(leg.key),
        probe=False,
        provider=leg.provider,
        model=leg.model,
        label=leg.label,
        calls=calls,
        ok=ok,
        failed=failed,
        fallback=0 if first else ok,
    )
    histogram = _histogram(ok, MEDIAN_MS[leg.kind] * slow * rng.uniform(0.85, 1.2), rng)
    for column, count in zip(LATENCY_FIELDS, histogram, strict=True):
        setattr(row, column, count)
    row.latency_sum_ms = int(ok * MEDIAN_MS[leg.kind] * slow * 1.1)
    if failed:
        minor = rng.choice(["timeout", "malformed_response", "bad_request"])
        main = failed - failed // 5
        setattr(row, f"fail_{reason}", main)
        setattr(row, f"fail_{minor}", getattr(row, f"fail_{minor}") + failed - main)
        if rate > 0.3:
            row.breaker_openings = min(5, max(1, failed // 10))
    usage = USAGE[leg.kind]
    row.credits = ok * int(settings.CREDIT_COSTS.get(leg.kind, 0))
    row.input_tokens = ok * usage.get("input_tokens", 0)
    row.output_tokens = ok * usage.get("output_tokens", 0)
    row.images = ok * usage.get("images", 0)
    unit = estimate_cost(leg.provider, leg.model, **{k: v for k, v in usage.items()}) or 0.0
    row.cost_micro_usd = round(ok * unit * 1_000_000)
    rows.append(row)
    return failed


def _hourly(rows: list[AttemptBucket]) -> list[AttemptBucket]:
    """The hourly rows of these 5-minute rows (the recorder writes both resolutions)."""
    hours: dict[tuple[datetime, str, str], AttemptBucket] = {}
    for row in rows:
        hour = row.bucket_start.replace(minute=0, second=0, microsecond=0)
        key = (hour, row.kind, row.candidate)
        if key not in hours:
            hours[key] = AttemptBucket(
                bucket_start=hour,
                span=HOUR_SECONDS,
                kind=row.kind,
                candidate=row.candidate,
                provider=row.provider,
                model=row.model,
                label=row.label,
            )
        for name in COUNTER_FIELDS:
            setattr(hours[key], name, getattr(hours[key], name) + getattr(row, name))
    return list(hours.values())


def _write(rows: list[AttemptBucket]) -> int:
    AttemptBucket.objects.bulk_create([*rows, *_hourly(rows)], batch_size=1000)
    written = int(sum(row.calls for row in rows))
    rows.clear()
    return written
