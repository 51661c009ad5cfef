"""Responsiveness benchmark: does the site stay quick while 64 image generations wait on a slow provider?

The README's production command (gunicorn with uvicorn workers on bitethemenu.asgi, DEBUG off) on
PostgreSQL and Redis, with task workers beside it, once per task backend (db, then rq). A fake
OpenAI-compatible image provider on 127.0.0.1 takes 15 s per image. For each path — the Composer
(POST /composer/image/), the API without `Prefer` (each call waits for its job) and the API with
`Prefer: respond-async` — 64 generations are put in flight at once, then 50 sequential GETs of the
login page and 50 of the Django admin home are timed. Target: p99 ≤ 200 ms and no failures.

    DEBUG=0 .venv/bin/python bench/responsiveness.py [--backend db|rq|both] [--jobs 64] [--latency 15]

Bounded: about a minute per backend (the queued jobs are not waited for), a watchdog stops it after
WALL_LIMIT seconds. Needs PostgreSQL at 127.0.0.1:5432 (database `bench_responsiveness`, recreated)
and Redis at 127.0.0.1:6379 (db 4, flushed). Never touches the network. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.fake_provider import ServerProcess  # noqa: E402

DB_NAME = "bench_responsiveness"
PG = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/4"
PORT = 8931  # checked free at start: a stale server here would be measured instead
WEB_WORKERS = 4
TASK_WORKERS = 4
P99_TARGET_MS = 200.0
WALL_LIMIT = 900.0
PASSWORD = "bench-password-123"
HTTPS = {"X-Forwarded-Proto": "https"}  # behind a TLS proxy, as the README says
SEED = """
from bitethemenu.models import ApiKey, Membership, Venue
from credits import gate
from django.contrib.auth import get_user_model
from resilience.models import ChainCandidate
User = get_user_model()
User.objects.create_superuser("admin", "admin@example.com", "{password}")
staff = User.objects.create_user("staff", password="{password}")
venue = Venue.objects.create(name="Bench Bistro", slug="bench")
Membership.objects.create(user=staff, venue=venue, role="owner")
gate.grant(venue=venue, amount=100000, note="bench")
ChainCandidate.objects.filter(kind="image").delete()
ChainCandidate.objects.create(kind="image", priority=1, label="Slow images", provider="openai_compatible",
    model="gpt-image-bench", base_url="{base_url}", env_key="OPENAI_COMPATIBLE_API_KEY")
print(ApiKey.mint(owner=staff, venue=venue)[1])
"""


@dataclass
class Row:
    backend: str
    path: str
    page: str
    p50: float
    p99: float
    failures: int
    submitted: str
    connections: int = 0  # peak PostgreSQL connections to the app's database while measuring
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.p99 <= P99_TARGET_MS and self.failures == 0


def progress(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


def environment(backend: str, provider_url: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "SLACK_ALERTS_WEBHOOK_URL"
    }
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-" + "s" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"{PG}/{DB_NAME}",
        REDIS_URL=REDIS_URL,
        TASKS_BACKEND=backend,
        TASKS_REDIS_URL=REDIS_URL,
        OPENAI_COMPATIBLE_API_KEY="bench-not-a-real-key",
        AI_PRIVATE_HOSTS="127.0.0.1",
        LOG_LEVEL="ERROR",
        # 3 × 64 paid calls in a few seconds from one venue: measure responsiveness, not the rate limits.
        RATE_LIMIT_PAID_PER_VENUE="100000",
        RATE_LIMIT_PAID_PER_ACTOR="100000",
        JOBS_IN_FLIGHT_PER_VENUE="0",  # the 64 come from one venue here; the cap is for fairness
        MEDIA_ROOT=str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-responsiveness-media"),
        STATIC_ROOT=str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-responsiveness-static"),
        BENCH_PROVIDER=provider_url,
    )
    env.pop("BTM_TESTING", None)
    return env


def fresh_database() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    redis.Redis.from_url(REDIS_URL).flushdb()


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def worker_command(backend: str) -> list[str]:
    if backend == "rq":
        return ["rqworker", "--job-class", "django_tasks_rq.Job", "--with-scheduler", "default"]
    return ["db_worker", "--no-reload", "--queue-name", "default"]


def start_processes(env: dict[str, str], backend: str) -> list[subprocess.Popen[bytes]]:
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-responsiveness-{backend}.log", "wb")  # noqa: SIM115
    quiet = {"stdout": log, "stderr": subprocess.STDOUT, "cwd": ROOT, "env": env}
    # Each in its own session, so stopping it stops its children too (gunicorn's workers).
    quiet["start_new_session"] = True
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "bitethemenu.asgi",
            "-k",
            "uvicorn_worker.UvicornWorker",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(WEB_WORKERS),
            "--timeout",
            "60",
        ],
        **quiet,  # type: ignore[arg-type]
    )
    workers = [
        subprocess.Popen([sys.executable, "manage.py", *worker_command(backend)], **quiet)  # type: ignore[arg-type]
        for _ in range(TASK_WORKERS)
    ]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{PORT}/login/", headers=HTTPS, timeout=2).status_code == 200:
                return [web, *workers]
        except requests.RequestException:
            pass
        time.sleep(0.5)
    stop_processes([web, *workers])
    raise SystemExit("gunicorn did not come up")


def stop_processes(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its group (waiting workers)
        except ProcessLookupError:
            pass


class Browser:
    """A logged-in session over plain HTTP that looks like HTTPS to Django (secure cookies kept by hand)."""

    def __init__(self, username: str) -> None:
        self.base = f"http://127.0.0.1:{PORT}"
        self.cookies: dict[str, str] = {}
        self.get("/login/")  # the CSRF cookie
        self._login(username)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**HTTPS, "Cookie": cookie, "Referer": f"https://127.0.0.1:{PORT}/", **(extra or {})}

    def _keep(self, response: requests.Response) -> requests.Response:
        self.cookies.update(response.cookies.get_dict())
        return response

    def get(self, path: str, timeout: float = 10) -> requests.Response:
        response = requests.get(
            self.base + path, headers=self._headers(), timeout=timeout, allow_redirects=False
        )
        return self._keep(response)

    def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> requests.Response:
        data = {**data, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        response = requests.post(
            self.base + path, data=data, headers=self._headers(headers), timeout=30, allow_redirects=False
        )
        return self._keep(response)

    def _login(self, username: str) -> None:
        response = self.post("/login/", {"username": username, "password": PASSWORD})
        if response.status_code != 302:
            raise SystemExit(f"login as {username} failed: {response.status_code}")


def timed_gets(browser: Browser, path: str, n: int) -> tuple[list[float], int]:
    times, failures = [], 0
    for _ in range(n):
        started = time.perf_counter()
        try:
            ok = browser.get(path).status_code == 200
        except requests.RequestException:
            ok = False
        times.append((time.perf_counter() - started) * 1000)
        failures += not ok
    return times, failures


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]


def submit_all(kind: str, n: int, staff: Browser, api_key: str) -> tuple[threading.Thread, list[int]]:
    """Put n generations in flight at once, in a background thread; returns it and the statuses list."""
    statuses: list[int] = []
    api = f"http://127.0.0.1:{PORT}/api/v1/venues/bench/images"

    def one(i: int) -> None:
        try:
            if kind == "composer":
                response = staff.post(
                    "/composer/image/",
                    {"prompt": f"Bench dish {i}", "style": "", "submission": secrets.token_hex(16)},
                    headers={"HX-Request": "true"},
                )
            else:
                headers = {"Authorization": f"Bearer {api_key}", **HTTPS}
                if kind == "api-async":
                    headers["Prefer"] = "respond-async"
                response = requests.post(
                    api, json={"prompt": f"Bench dish {i}"}, headers=headers, timeout=600
                )
            statuses.append(response.status_code)
        except requests.RequestException:
            statuses.append(0)

    def run() -> None:
        with ThreadPoolExecutor(max_workers=n) as pool:
            list(pool.map(one, range(n)))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, statuses


class ConnectionPeak:
    """Samples how many connections the app's database has (every 50 ms) until stopped: each web
    process and worker keeps a small pool, so 64 waiting calls must not mean 64 connections."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            while not self._stop.wait(0.05):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [DB_NAME]
                ).fetchone()
                self.peak = max(self.peak, row[0] if row else 0)


def measure(backend: str, path: str, admin: Browser, gets: int, note: str) -> list[Row]:
    """50 sequential GETs of the login page (anonymous), then 50 of the admin home (a superuser)."""
    with ConnectionPeak() as connections:
        rows = _measure(backend, path, admin, gets, note)
    for row in rows:
        row.connections = connections.peak
    return rows


def _measure(backend: str, path: str, admin: Browser, gets: int, note: str) -> list[Row]:
    anonymous = requests.Session()
    login_times, login_failures = [], 0
    for _ in range(gets):
        started = time.perf_counter()
        try:
            ok = (
                anonymous.get(f"http://127.0.0.1:{PORT}/login/", headers=HTTPS, timeout=10).status_code == 200
            )
        except requests.RequestException:
            ok = False
        login_times.append((time.perf_counter() - started) * 1000)
        login_failures += not ok
    admin_times, admin_failures = timed_gets(admin, "/admin/", gets)
    return [
        Row(backend, path, page, statistics.median(times), p99(times), failures, note)
        for page, times, failures in (
            ("login page", login_times, login_failures),
            ("admin home", admin_times, admin_failures),
        )
    ]


def first_answers(statuses: list[int], started: float, wait: float) -> str:
    """The waiting API calls do get their answer: the first TASK_WORKERS jobs end after one
    provider latency, and their calls answer 201 (the rest wait their turn in the queue)."""
    deadline = started + wait
    while len(statuses) < TASK_WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    created = sum(1 for status in statuses if status == 201)
    return f"{created} answered 201 after {time.monotonic() - started:.0f} s, the rest waiting in the queue"


def run_backend(backend: str, jobs: int, gets: int, provider_url: str, latency: float) -> list[Row]:
    env = environment(backend, provider_url)
    progress(f"{backend}: fresh database, migrate, seed")
    fresh_database()
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    api_key = (
        manage(env, "shell", "-c", SEED.format(password=PASSWORD, base_url=provider_url))
        .strip()
        .splitlines()[-1]
    )
    processes = start_processes(env, backend)
    rows: list[Row] = []
    try:
        admin, staff = Browser("admin"), Browser("staff")
        progress(f"{backend}: baseline, nothing in flight")
        rows += measure(backend, "(nothing: baseline)", admin, gets, "")
        for path in ("api-sync", "composer", "api-async"):  # api-sync first: its jobs lead the queue
            progress(f"{backend}: {jobs} generations in flight through {path}")
            submitted_at = time.monotonic()
            thread, statuses = submit_all(path, jobs, staff, api_key)
            time.sleep(2.0)  # let the burst land: the web is now holding (or has queued) all of them
            measured = measure(backend, path, admin, gets, "")
            accepted = sum(1 for status in statuses if status in (200, 201, 202))
            note = f"{accepted}/{jobs} accepted"
            if path == "api-sync":
                note = first_answers(statuses, started=submitted_at, wait=latency + 15)
            for row in measured:
                row.submitted = note
            rows += measured
            if path != "api-sync":
                thread.join(timeout=60)
    finally:
        stop_processes(processes)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["db", "rq", "both"], default="both")
    parser.add_argument("--jobs", type=int, default=64)
    parser.add_argument("--latency", type=float, default=15.0)
    parser.add_argument("--gets", type=int, default=50)
    args = parser.parse_args()
    watchdog = threading.Timer(
        WALL_LIMIT, lambda: (print("over the time limit", file=sys.stderr), os._exit(2))
    )
    watchdog.daemon = True
    watchdog.start()

    try:
        requests.get(f"http://127.0.0.1:{PORT}/", timeout=1)
        raise SystemExit(f"something already listens on 127.0.0.1:{PORT}: stop it first")
    except requests.ConnectionError:
        pass
    provider = ServerProcess("healthy", latency=args.latency).start()
    rows: list[Row] = []
    try:
        for backend in ("db", "rq") if args.backend == "both" else (args.backend,):
            rows += run_backend(backend, args.jobs, args.gets, provider.base_url, args.latency)
    finally:
        provider.stop()
    print(
        f"| backend | {args.jobs} generations in flight via | {args.gets} sequential GETs of | p50 | p99 | failures | generations | peak DB connections |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row.backend} | {row.path} | {row.page} | {row.p50:.1f} ms | {row.p99:.1f} ms | {row.failures} | {row.submitted} | {row.connections} |"
        )
    missed = [row for row in rows if not row.met]
    print(
        f"target: p99 ≤ {P99_TARGET_MS:.0f} ms and no failures — {'met' if not missed else f'MISSED in {len(missed)} row(s)'}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
