"""Job fixtures: the real task backend named by TASKS_BACKEND (db by default, or rq), drained with
that backend's own worker code, and a real worker process for the few tests that need one.

Run the job tests against RQ with `TASKS_BACKEND=rq pytest tests/jobs` (Redis at
TASKS_REDIS_URL, default redis://127.0.0.1:6379/3 — flushed by these tests).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from django.tasks import task_backends
from django.utils.connection import Local

from tests.composer.conftest import START_BALANCE, chain, funded, simulated  # noqa: F401 — shared fixtures

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_URL = os.environ.get("TASKS_REDIS_URL") or "redis://127.0.0.1:6379/3"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _reset_task_backends() -> None:
    # django.tasks caches its backends; a TASKS override needs fresh ones (as after a restart).
    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(task_backends.thread_critical)


@pytest.fixture
def backend_name(settings) -> str:
    return settings.TASKS_BACKEND


@pytest.fixture
def job_backend(settings, backend_name) -> Iterator[Callable[[], None]]:
    """Switch django.tasks to the real backend (db or rq) and give back `drain()`, which runs every
    queued task with that backend's worker code, in this process, then returns."""
    settings.TASKS = {"default": settings.TASK_BACKENDS[backend_name]}
    settings.RQ_QUEUES = {"default": {**settings.RQ_QUEUES["default"], "URL": TEST_REDIS_URL}}
    _reset_task_backends()
    if backend_name == "rq":
        _flush_test_redis()
    yield _drainer(backend_name)
    if backend_name == "rq":
        _flush_test_redis()
    settings.TASKS = {"default": settings.TASK_BACKENDS["immediate"]}
    _reset_task_backends()


def _flush_test_redis() -> None:
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


def _drainer(backend_name: str) -> Callable[[], None]:
    def drain_db() -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()

    def drain_rq() -> None:
        import django_rq
        from django_tasks_rq import Job
        from rq import SimpleWorker

        # SimpleWorker: no fork, so the task sees this test's database connection.
        django_rq.get_worker("default", job_class=Job, worker_class=SimpleWorker).work(burst=True)

    return drain_rq if backend_name == "rq" else drain_db


@pytest.fixture
def worker_process(backend_name, settings) -> Iterator[Callable[[], subprocess.Popen]]:
    """start() runs the real worker command (scripts/worker's) in a child process against this
    test's database; every process started is killed at the end. Needs committed data
    (transactional tests): the child has its own connection."""
    started: list[subprocess.Popen] = []
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        database_url = f"sqlite:///{db['NAME']}"
    else:
        database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url,
        "TASKS_BACKEND": backend_name,
        "TASKS_REDIS_URL": TEST_REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ALERTS_DELIVERY": "sync",
    }
    env.pop("BTM_TESTING", None)

    def start() -> subprocess.Popen:
        command = [sys.executable, "manage.py", *worker_command(backend_name)]
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def worker_command(backend_name: str) -> list[str]:
    """The worker command `scripts/worker` runs, per backend."""
    if backend_name == "rq":
        return [
            "rqworker",
            "--job-class",
            "django_tasks_rq.Job",
            "--worker-class",
            "rq.SimpleWorker",
            "default",
        ]
    return ["db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"]


def wait_for(predicate: Callable[[], bool], *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not true after {timeout} s")
