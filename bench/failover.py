"""Failover benchmark: the real cascade and the real openai_compatible adapter against fake providers.

    DEBUG=1 .venv/bin/python bench/failover.py            # breaker state in local memory
    DEBUG=1 .venv/bin/python bench/failover.py --redis    # breaker state in Redis (127.0.0.1:6379/15)

A benchmark, not a test: it prints a table and exits 0, or 1 when a target is missed. Everything is on
127.0.0.1 (bench/fake_provider.py); Django runs against a throwaway SQLite file in a temp directory,
with the chat chain written as ChainCandidate rows and a fake env key. Bounded: fixed call counts, a
1 s per-attempt timeout, and a watchdog that ends the process after WALL_LIMIT seconds.

Measured:
- orchestration overhead per call: cascade.run against a zero-latency provider, minus the bare HTTP
  call through the same adapter (plan query, breaker checks, audit);
- time-to-success with the primary refusing connections, hanging, answering 503, or dribbling its
  answer a byte every half second (chat), and with KIE's queue stuck on "generating" (image), before the
  breaker opens (the first call, no breaker help) and once it is open, against the healthy backup's own
  latency;
- requests per second with 16 concurrent callers.
Targets: overhead < 2 ms per call; first call ≤ 1.10× the backup alone + one attempt timeout (move on
first: the failing primary costs at most its attempt); breaker open → within 10% of the backup alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fake_provider import ServerProcess, closed_port  # noqa: E402

WALL_LIMIT = 170.0  # seconds: the whole run ends by itself in under three minutes
BACKUP_LATENCY = 0.050
ATTEMPT_TIMEOUT = 1.0
OVERHEAD_CALLS = 300
LATENCY_CALLS = 40
CONCURRENCY = 16
CALLS_PER_WORKER = 20
BENCH_KEY = "bench-not-a-real-key"
OVERHEAD_TARGET_MS = 2.0
OPEN_RATIO_TARGET = 1.10


@dataclass
class Row:
    scenario: str
    value: str
    note: str = ""


def print_rows(rows: list[Row]) -> None:
    print("| scenario | result | notes |\n| --- | --- | --- |")
    for row in rows:
        print(f"| {row.scenario} | {row.value} | {row.note} |")


def progress(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


def configure_environment(tmp: Path, *, use_redis: bool) -> None:
    """Settings are read from the environment at import: point them at throwaway, local things."""
    os.environ.setdefault("DEBUG", "1")
    os.environ.pop("DATABASE_URL", None)  # never a real database
    os.environ["SQLITE_PATH"] = str(tmp / "bench.sqlite3")
    if use_redis:
        os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    else:
        os.environ.pop("REDIS_URL", None)
    for name in list(os.environ):  # no real provider or Slack can be reached from here
        if name.endswith("_API_KEY") or name == "SLACK_ALERTS_WEBHOOK_URL":
            del os.environ[name]
    os.environ["OPENAI_COMPATIBLE_API_KEY"] = BENCH_KEY
    os.environ["KIE_API_KEY"] = BENCH_KEY
    os.environ["AI_PRIVATE_HOSTS"] = "127.0.0.1"  # the fake providers live here
    for kind in ("CHAT", "IMAGE"):
        os.environ[f"AI_{kind}_ATTEMPT_TIMEOUT"] = str(ATTEMPT_TIMEOUT)
        os.environ[f"AI_{kind}_DEADLINE"] = "20"
    os.environ["KIE_POLL_INTERVAL"] = "0.2"
    os.environ["BREAKER_FAILURE_THRESHOLD"] = "3"
    os.environ["BREAKER_COOLDOWN_SECONDS"] = "3600"  # stays open for the whole run once tripped
    os.environ["ALERTS_DELIVERY"] = "sync"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bitethemenu.settings")


def setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def start_watchdog(rows: list[Row]) -> None:
    def expire() -> None:
        print(f"failover benchmark: over {WALL_LIMIT:.0f} s, stopping; rows so far:", file=sys.stderr)
        print_rows(rows)
        sys.stdout.flush()
        os._exit(2)

    timer = threading.Timer(WALL_LIMIT, expire)
    timer.daemon = True
    timer.start()


# --- Chains and calls ------------------------------------------------------------------------------


def set_chain(*legs: tuple[str, str, str], kind: str = "chat", provider: str = "openai_compatible") -> None:
    """Replace a chain with (label, model, base_url) legs, in priority order. A leg's model "kie:<id>" is
    a KIE candidate on the KIE base URL from the environment (the fake KIE server)."""
    from resilience.models import ChainCandidate

    ChainCandidate.objects.filter(kind=kind).delete()
    rows = []
    for i, (label, model, base_url) in enumerate(legs, start=1):
        leg_provider, leg_model = ("kie", model[4:]) if model.startswith("kie:") else (provider, model)
        rows.append(
            ChainCandidate(
                kind=kind, priority=i, label=label, provider=leg_provider, model=leg_model, base_url=base_url
            )
        )
    ChainCandidate.objects.bulk_create(rows)


def key_of(model: str, base_url: str) -> str:
    from resilience import health

    if model.startswith("kie:"):
        return health.candidate_key("kie", model[4:], base_url)
    return health.candidate_key("openai_compatible", model, base_url)


def run_chat(kind: str = "chat") -> object:
    from resilience import cascade
    from resilience.types import AIRequest

    request = AIRequest(prompt="A caption for calamari")
    return cascade.run(kind, request, venue=None, service="bench.failover")


def direct_call(base_url: str) -> object:
    from resilience.registry import get_adapter
    from resilience.types import AIRequest

    return get_adapter("openai_compatible").call(
        "chat",
        AIRequest(prompt="A caption for calamari"),
        model="zero",
        base_url=base_url,
        api_key=BENCH_KEY,
        timeout=ATTEMPT_TIMEOUT,
    )


def timings(fn: Callable[[], object], n: int) -> list[float]:
    """Seconds per call of `fn`, n times (sequential)."""
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


# --- Sections ------------------------------------------------------------------------------------


def measure_overhead(zero: ServerProcess, rows: list[Row]) -> float:
    """Median of paired (cascade.run − bare adapter call) differences: pairing cancels the drift of a
    shared machine. Also cascade.run with the HTTP call stubbed out: the orchestration alone."""
    from unittest import mock

    from resilience.registry import get_adapter
    from resilience.types import AIOutput

    set_chain(("Zero-latency", "zero", zero.base_url))
    for _ in range(30):  # warm the connection pool, imports and the plan query
        direct_call(zero.base_url)
        run_chat()
    bare, full = [], []
    for _ in range(OVERHEAD_CALLS):
        bare += timings(lambda: direct_call(zero.base_url), 1)
        full += timings(run_chat, 1)
    paired = statistics.median(f - b for f, b in zip(full, bare, strict=True))
    adapter = get_adapter("openai_compatible")
    with mock.patch.object(adapter, "call", return_value=AIOutput(model="zero", text="ok")):
        stubbed = timings(run_chat, OVERHEAD_CALLS)
    rows.append(
        Row(
            "bare adapter HTTP call, zero-latency provider (p50)",
            f"{ms(statistics.median(bare))} ms",
            f"{OVERHEAD_CALLS} calls",
        )
    )
    rows.append(
        Row(
            "cascade.run, zero-latency provider (p50)",
            f"{ms(statistics.median(full))} ms",
            f"{OVERHEAD_CALLS} calls, interleaved with the bare calls",
        )
    )
    rows.append(
        Row(
            "orchestration overhead per call (median of paired differences)",
            f"{ms(paired)} ms",
            f"target < {OVERHEAD_TARGET_MS:.0f} ms",
        )
    )
    rows.append(
        Row(
            "cascade.run with the provider call stubbed out (p50 / p99)",
            f"{ms(statistics.median(stubbed))} / {ms(sorted(stubbed)[int(len(stubbed) * 0.99)])} ms",
            "plan query + breaker check + record + audit",
        )
    )
    return paired


def measure_backup(backup: ServerProcess, kind: str = "chat") -> float:
    """The healthy backup's own time-to-success (p50), as the chain's only candidate."""
    set_chain(("Backup", "backup", backup.base_url), kind=kind)
    timings(lambda: run_chat(kind), 5)
    return statistics.median(timings(lambda: run_chat(kind), LATENCY_CALLS))


@dataclass
class Failover:
    first_call: float  # seconds, no breaker help
    alone: float  # the backup alone, seconds
    open_ratio: float  # breaker open: time-to-success ÷ the backup alone

    @property
    def first_call_met(self) -> bool:
        return self.first_call <= OPEN_RATIO_TARGET * self.alone + ATTEMPT_TIMEOUT


def measure_failover(
    name: str,
    primary_url: str,
    backup: ServerProcess,
    rows: list[Row],
    *,
    kind: str = "chat",
    model: str = "primary",
) -> Failover:
    """Time-to-success with a failing primary before its breaker opens (first call) and after, against
    the backup alone measured just before (so both see the same machine load)."""
    from resilience import health

    alone = measure_backup(backup, kind)
    primary_key = key_of(model, primary_url)
    health.reset(primary_key)
    set_chain(("Primary", model, primary_url), ("Backup", "backup", backup.base_url), kind=kind)
    before = timings(lambda: run_chat(kind), 1)[0]
    calls_to_open = 1
    while not health.is_open(primary_key) and calls_to_open < 10:
        run_chat(kind)
        calls_to_open += 1
    if not health.is_open(primary_key):
        rows.append(
            Row(f"primary {name}: breaker never opened", "—", "is the cascade wired to resilience.health?")
        )
        return Failover(before, alone, float("inf"))
    after = statistics.median(timings(lambda: run_chat(kind), LATENCY_CALLS))
    last = run_chat(kind)
    skipped = [a for a in last.attempts if a.outcome == "skipped"]  # type: ignore[attr-defined]
    rows.append(
        Row(
            f"primary {name}: first call, breaker closed",
            f"{ms(before)} ms",
            f"target ≤ {ms(OPEN_RATIO_TARGET * alone + ATTEMPT_TIMEOUT)} ms (1.10× backup + one attempt "
            f"timeout); opened after {calls_to_open} call(s)",
        )
    )
    rows.append(
        Row(
            f"primary {name}: breaker open (p50)",
            f"{ms(after)} ms",
            f"{after / alone:.2f}× backup alone ({ms(alone)} ms); audit: "
            f"{skipped[0].message if skipped else 'no skip!'}",
        )
    )
    return Failover(before, alone, after / alone)


def measure_throughput(label: str, rows: list[Row]) -> None:
    """CONCURRENCY threads, CALLS_PER_WORKER sequential calls each; also counts provider calls that
    failed (with the breaker open, the hanging primary must never be called)."""
    from django.db import connection

    def worker() -> list[tuple[float, int]]:
        out = []
        try:
            for _ in range(CALLS_PER_WORKER):
                started = time.perf_counter()
                result = run_chat()
                failed = sum(1 for a in result.attempts if a.outcome == "failed")  # type: ignore[attr-defined]
                out.append((time.perf_counter() - started, failed))
            return out
        finally:
            connection.close()  # each thread has its own connection

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        calls = [call for batch in pool.map(lambda _: worker(), range(CONCURRENCY)) for call in batch]
    elapsed = time.perf_counter() - started
    p50 = statistics.median(d for d, _ in calls)
    failed = sum(f for _, f in calls)
    rows.append(
        Row(
            f"{CONCURRENCY} concurrent callers: {label}",
            f"{len(calls) / elapsed:.0f} req/s",
            f"{len(calls)} calls in {elapsed:.2f} s, p50 {ms(p50)} ms, {failed} failed provider call(s)",
        )
    )


# --- Main ----------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--redis", action="store_true", help="keep breaker state in Redis at 127.0.0.1:6379/15"
    )
    args = parser.parse_args()
    rows: list[Row] = []
    start_watchdog(rows)
    with tempfile.TemporaryDirectory(prefix="btm-bench-") as tmp:
        configure_environment(Path(tmp), use_redis=args.redis)
        setup_django()
        return run_all(rows, use_redis=args.redis)


def run_all(rows: list[Row], *, use_redis: bool) -> int:
    import logging

    from django.conf import settings

    # 16 callers share the seam's connection pool (10 per host): urllib3 warns each time it drops
    # a surplus keep-alive connection. That cost is in the numbers; the warnings are noise here.
    logging.getLogger("urllib3").setLevel(logging.ERROR)

    zero = ServerProcess("healthy").start()
    backup = ServerProcess("healthy", latency=BACKUP_LATENCY).start()
    hanging = ServerProcess("hang").start()
    overloaded = ServerProcess("overloaded").start()
    dribbling = ServerProcess("dribble").start()
    stuck_kie = ServerProcess("kie-stuck").start()
    settings.AI_PROVIDER_BASE_URLS = {
        **settings.AI_PROVIDER_BASE_URLS,
        "kie": f"http://127.0.0.1:{stuck_kie.port}",
    }
    refusing_url = f"http://127.0.0.1:{closed_port()}/v1"
    started = time.perf_counter()
    failovers: list[Failover] = []
    try:
        progress("overhead")
        overhead = measure_overhead(zero, rows)
        alone = measure_backup(backup)
        rows.append(
            Row(
                "healthy backup alone (p50)",
                f"{ms(alone)} ms",
                f"provider latency {BACKUP_LATENCY * 1000:.0f} ms",
            )
        )
        for name, url in (
            ("refusing connections", refusing_url),
            ("hanging", hanging.base_url),
            ("answering 503", overloaded.base_url),
            ("dribbling its answer (1 byte / 0.5 s)", dribbling.base_url),
        ):
            progress(f"primary {name}")
            failovers.append(measure_failover(name, url, backup, rows))
        progress("stuck KIE queue")
        failovers.append(
            measure_failover(
                "KIE, queue stuck on generating (image)",
                "",
                backup,
                rows,
                kind="image",
                model="kie:nano-banana-2",
            )
        )
        progress("throughput")
        set_chain(("Zero-latency", "zero", zero.base_url))
        measure_throughput("zero-latency provider", rows)
        set_chain(("Backup", "backup", backup.base_url))
        measure_throughput(f"healthy {BACKUP_LATENCY * 1000:.0f} ms provider", rows)
        if all(f.open_ratio != float("inf") for f in failovers):
            set_chain(("Primary", "primary", hanging.base_url), ("Backup", "backup", backup.base_url))
            measure_throughput(
                f"hanging primary (breaker open) + {BACKUP_LATENCY * 1000:.0f} ms backup", rows
            )
    finally:
        for server in (zero, backup, hanging, overloaded, dribbling, stuck_kie):
            server.stop()
    cache = "Redis" if use_redis else "local memory"
    print(
        f"\nFailover benchmark — breaker state in {cache}; per-attempt timeout {ATTEMPT_TIMEOUT:.0f} s; "
        f"breaker threshold {settings.BREAKER_FAILURE_THRESHOLD}; Python {sys.version.split()[0]}; "
        f"{time.perf_counter() - started:.1f} s\n"
    )
    print_rows(rows)
    worst = max(f.open_ratio for f in failovers)
    first_calls_met = all(f.first_call_met for f in failovers)
    met = overhead * 1000 < OVERHEAD_TARGET_MS and worst <= OPEN_RATIO_TARGET and first_calls_met
    print(
        f"\nTargets: overhead {ms(overhead)} ms (< {OVERHEAD_TARGET_MS:.0f}); first calls within 1.10× backup + one "
        f"attempt timeout: {'yes' if first_calls_met else 'NO'}; breaker open, worst {worst:.2f}× backup alone "
        f"(≤ {OPEN_RATIO_TARGET:.2f}) → {'met' if met else 'MISSED'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
