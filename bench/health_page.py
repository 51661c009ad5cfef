"""Health page benchmark: /admin/super/health/ over a week of aggregates worth ~1 million attempts.

    DEBUG=1 .venv/bin/python bench/health_page.py [--repeat 10] [--scale 1.0]

A benchmark, not a test. Django runs against a throwaway SQLite file (DATABASE_URL is dropped unless
--keep-database-url is given, e.g. a scratch PostgreSQL), seeds the default chains plus five venue
primaries (20 candidates) with 7 days of 5-minute buckets (observe.demo.seed_week: ~40k rows, ~1M
attempts), then renders the page for each window as a logged-in super admin.
Reported: attempts and rows seeded; per window the median and worst render time (wall clock, and this
process's CPU time, which a busy shared machine inflates far less) and the DB queries.
Targets: ≤ 300 ms, ≤ 10 queries. Exits 1 when a target is missed.
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

TIME_TARGET_MS = 300.0
QUERY_TARGET = 10


def configure_environment(tmp: Path, keep_database_url: bool) -> None:
    os.environ.setdefault("DEBUG", "1")
    if not keep_database_url:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["SQLITE_PATH"] = str(tmp / "bench.sqlite3")
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["MEDIA_ROOT"] = str(tmp / "media")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bitethemenu.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--keep-database-url", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="btm-bench-") as tmp:
        configure_environment(Path(tmp), args.keep_database_url)
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from observe.demo import seed_week
        from observe.models import AttemptBucket

        call_command("migrate", verbosity=0, interactive=False)
        started = time.perf_counter()
        attempts = seed_week(scale=args.scale)
        seeded_s = time.perf_counter() - started
        rows = AttemptBucket.objects.count()
        candidates = AttemptBucket.objects.values("candidate").distinct().count()
        admin = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-pass")
        client = Client(HTTP_HOST="localhost")
        client.force_login(admin)
        results = []
        failed = False
        for window in ("1h", "24h", "7d"):
            url = f"/admin/super/health/?window={window}"
            assert client.get(url).status_code == 200  # warm-up (templates, statement cache)
            samples, cpu = [], []
            for _ in range(args.repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                response = client.get(url)
                samples.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
                assert response.status_code == 200
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            median = statistics.median(samples)
            failed |= median > TIME_TARGET_MS or len(queries) > QUERY_TARGET
            results.append(
                (window, median, statistics.median(cpu), max(samples), len(queries), len(response.content))
            )
        vendor = connection.vendor
    print(
        f"health page, {vendor}: {attempts:,} attempts in {rows:,} buckets, {candidates} candidates "
        f"(seeded in {seeded_s:.1f} s), {args.repeat} renders per window"
    )
    print("| window | median ms | median CPU ms | worst ms | DB queries | page KiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for window, median, cpu_ms, worst, queries, size in results:
        print(f"| {window} | {median:.1f} | {cpu_ms:.1f} | {worst:.1f} | {queries} | {size / 1024:.0f} |")
    print(
        f"load average while measuring: {os.getloadavg()[0]:.1f} (CPU ms is this process only; wall ms grows with load)"
    )
    print(f"targets: ≤ {TIME_TARGET_MS:.0f} ms, ≤ {QUERY_TARGET} queries — {'MISSED' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
