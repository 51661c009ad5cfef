"""Several app processes share one breaker through Redis: only one of them gets the probe.

Needs the Redis server on 127.0.0.1:6379 (skipped when it is not there). Keys are unique per test
run (a random model id), so nothing else in the database is touched.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from resilience import health
from resilience.errors import Reason

REDIS_URL = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        import redis  # noqa: F401
    except ImportError:
        return False
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379"),
    pytest.mark.usefixtures("breaker_settings"),
]


@pytest.fixture
def redis_key(settings, monkeypatch):
    settings.CACHES = {
        **settings.CACHES,
        "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
    monkeypatch.setattr(health, "CACHE_ALIAS", "redis")
    key = health.candidate_key("openai_compatible", f"test-{uuid.uuid4().hex}", "http://127.0.0.1:9/v1")
    yield key
    health.reset(key)


def test_the_breaker_opens_and_closes_on_redis(clock, redis_key):
    for _ in range(3):
        health.record_outcome(
            redis_key, ok=False, reason=Reason.TIMEOUT, duration_ms=100, message="timed out"
        )
    assert health.allow_attempt(redis_key) is False
    clock.advance(60)
    probe = health.admit(redis_key).probe
    assert probe
    health.record_outcome(redis_key, ok=True, duration_ms=30, probe=probe)
    got = health.candidate_health(redis_key)
    assert (got.state, got.samples, got.median_latency_ms, got.last_error) == (
        "closed",
        4,
        30,
        "timeout: timed out",
    )


def test_threads_with_their_own_redis_connections_get_one_probe(clock, redis_key):
    for _ in range(3):
        health.record_outcome(redis_key, ok=False, reason=Reason.SERVER, duration_ms=5)
    clock.advance(60)
    start = threading.Barrier(8)
    results: list[bool] = []

    def caller() -> None:
        start.wait()
        results.append(health.allow_attempt(redis_key))  # Django gives each thread its own client

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]


CHILD = """
import os, sys, time
import django
django.setup()
from resilience import health
health.now = lambda: float(sys.argv[2])
open(sys.argv[3] + "." + str(os.getpid()), "w").close()  # ready
while not os.path.exists(sys.argv[3]):
    time.sleep(0.005)
print("probe" if health.allow_attempt(sys.argv[1]) else "skip")
"""


def test_separate_processes_sharing_redis_get_one_probe(clock, redis_key, tmp_path):
    for _ in range(3):
        health.record_outcome(redis_key, ok=False, reason=Reason.SERVER, duration_ms=5)
    go = tmp_path / "go"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "BTM_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "bitethemenu.settings",
        "BREAKER_COOLDOWN_SECONDS": "60",
    }
    env.pop("DATABASE_URL", None)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, redis_key, str(clock() + 61), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.*"))) < len(children) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # all four are set up: they race for the probe at about the same moment
    outputs = [child.communicate(timeout=60) for child in children]
    answers = sorted(out.strip() for out, _ in outputs)
    assert answers == ["probe", "skip", "skip", "skip"], [err for _, err in outputs]
