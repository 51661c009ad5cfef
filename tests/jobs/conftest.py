"""Job fixtures: a real worker process for the few tests that need one (the real task backend,
`job_backend`, is in tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

from tests.composer.conftest import START_BALANCE, chain, funded, simulated  # noqa: F401 — shared fixtures
from tests.conftest import TEST_REDIS_URL, _reset_task_backends  # noqa: F401 — used by the tests here

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


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
