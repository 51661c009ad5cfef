"""Cascade overhead benchmark: what resilience.cascade.run costs on top of the adapter call itself.

    DEBUG=1 .venv/bin/python bench/cascade_overhead.py [--calls 2000]

A benchmark, not a test. Django runs against a throwaway SQLite file in a temp directory (never a
real database: DATABASE_URL is dropped), no provider keys are set and nothing leaves the process: every
answer comes from the simulated provider's `ok` model (chat: a hash and a format string).

Scenarios (each N calls, after a warm-up):
- primary answers: the venue primary (simulated ok) succeeds at once — the everyday path;
- chain walk: the primary is `gone`, three keyless chain legs are skipped, the fourth answers;
- bare adapter: the simulated adapter called directly, for subtraction.
Reported: mean and p95 ms per call, overhead = cascade − bare adapter, DB queries per call.
Targets: overhead < 2 ms per call, ≤ 3 queries per call. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OVERHEAD_TARGET_MS = 2.0
QUERY_TARGET = 3


def configure_environment(tmp: Path) -> None:
    """Settings read the environment at import: point them at throwaway, local things."""
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["SQLITE_PATH"] = str(tmp / "bench.sqlite3")
    os.environ["SIMULATED_PROVIDER_ENABLED"] = "1"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    for name in list(os.environ):  # no real provider or Slack can be reached from here
        if name.endswith("_API_KEY") or name == "SLACK_ALERTS_WEBHOOK_URL":
            del os.environ[name]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bitethemenu.settings")


def setup() -> object:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from bitethemenu.models import Venue

    return Venue.objects.create(name="Bench Bistro", slug="bench-bistro")


def set_scenario(venue: object, *, primary_model: str, keyless_legs: int) -> None:
    from resilience.models import ChainCandidate
    from resilience.primaries import set_primary

    set_primary(venue=venue, kind="chat", provider="simulated", model=primary_model)
    ChainCandidate.objects.filter(kind="chat").delete()
    legs = [
        ChainCandidate(
            kind="chat",
            priority=i + 1,
            label=f"Keyless {i + 1}",
            provider="openrouter",
            model=f"vendor/model-{i}",
        )
        for i in range(keyless_legs)
    ]
    legs.append(
        ChainCandidate(
            kind="chat", priority=keyless_legs + 1, label="Simulated", provider="simulated", model="ok"
        )
    )
    ChainCandidate.objects.bulk_create(legs)


def timed(fn, calls: int) -> list[float]:
    for _ in range(min(50, calls)):  # warm-up: imports, adapter cache, statement cache
        fn()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def queries_per_call(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="btm-bench-") as tmp:
        configure_environment(Path(tmp))
        venue = setup()
        from resilience import cascade
        from resilience.registry import get_adapter
        from resilience.types import AIRequest

        request = AIRequest(prompt="A caption for our calamari", system="Warm")
        adapter = get_adapter("simulated")

        def bare() -> object:
            return adapter.call("chat", request, model="ok", base_url="", api_key="", timeout=30.0)

        def through_cascade() -> object:
            return cascade.run("chat", request, venue=venue, service="bench.overhead")

        bare_ms = statistics.mean(timed(bare, args.calls))
        rows = []
        failed = False
        for name, primary, keyless in [
            ("primary answers", "ok", 0),
            ("chain walk (1 failed, 3 skipped)", "gone", 3),
        ]:
            set_scenario(venue, primary_model=primary, keyless_legs=keyless)
            samples = timed(through_cascade, args.calls)
            overhead = statistics.mean(samples) - bare_ms
            queries = queries_per_call(through_cascade)
            failed |= overhead >= OVERHEAD_TARGET_MS or queries > QUERY_TARGET
            rows.append((name, statistics.mean(samples), p95(samples), overhead, queries))

    print(f"cascade overhead, {args.calls} calls per scenario, SQLite, simulated provider")
    print("| scenario | mean ms/call | p95 ms | overhead ms/call | DB queries/call |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| bare adapter (simulated ok) | {bare_ms:.3f} | | | 0 |")
    for name, mean, p95_ms, overhead, queries in rows:
        print(f"| {name} | {mean:.3f} | {p95_ms:.3f} | {overhead:.3f} | {queries} |")
    print(
        f"targets: overhead < {OVERHEAD_TARGET_MS} ms, ≤ {QUERY_TARGET} queries — {'MISSED' if failed else 'met'}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
