"""The chain must keep working when the cache (Redis) is down: breaker closed, stats dropped."""

from __future__ import annotations

import logging

import pytest

from resilience import health
from resilience.errors import Reason


@pytest.fixture
def broken_cache(settings, monkeypatch):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {"BACKEND": "tests.health.broken_cache.BrokenCache"},
    }
    monkeypatch.setattr(health, "CACHE_ALIAS", "broken")
    monkeypatch.setattr(health, "_last_warning_at", float("-inf"))


def test_a_broken_cache_allows_attempts_and_never_raises(broken_cache, clock, key, caplog):
    with caplog.at_level(logging.WARNING, logger="resilience.health"):
        for _ in range(5):
            health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5, message="HTTP 503")
        assert health.allow_attempt(key) is True
        assert health.is_open(key) is False
        assert health.candidate_health(key) == health.CandidateHealth()
        health.record_outcome(key, ok=True, duration_ms=5)
        health.reset(key)
    warnings = [r for r in caplog.records if "health cache unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once-ish, not once per call
    assert "ConnectionError" in warnings[0].getMessage()


def test_after_a_failure_the_cache_is_left_alone_for_a_few_seconds(broken_cache, clock, key, monkeypatch):
    from tests.health.broken_cache import BrokenCache

    calls = []
    real_fail = BrokenCache._fail

    def counting_fail(self, *args, **kwargs):
        calls.append(1)
        return real_fail(self, *args, **kwargs)

    monkeypatch.setattr(BrokenCache, "get", counting_fail)
    monkeypatch.setattr(BrokenCache, "get_many", counting_fail)
    moment = [100.0]
    monkeypatch.setattr(health, "monotonic", lambda: moment[0])

    assert health.allow_attempt(key) is True
    assert len(calls) == 1
    for _ in range(10):  # the next calls of this process do not wait on a dead cache again
        assert health.allow_attempt(key) is True
        health.record_outcome(key, ok=True, duration_ms=5)
        assert health.candidate_health(key) == health.CandidateHealth()
    assert len(calls) == 1
    moment[0] += health.CACHE_RETRY_SECONDS
    assert health.allow_attempt(key) is True
    assert len(calls) == 2  # then it tries again


def test_a_failed_cache_alias_does_not_silence_another(broken_cache, clock, key, settings, monkeypatch):
    assert health.allow_attempt(key) is True  # "broken" fails and is backed off
    monkeypatch.setattr(health, "CACHE_ALIAS", "default")
    for _ in range(3):
        health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5)
    assert health.allow_attempt(key) is False


SILENT_REDIS_CHILD = """
import json, sys, time
import django
django.setup()
from resilience import health
from resilience.errors import Reason
key = health.candidate_key("simulated", "ok", "")
started = time.monotonic()
allowed = health.allow_attempt(key)
for _ in range(3):
    health.record_outcome(key, ok=False, reason=Reason.SERVER, duration_ms=5)
state = health.candidate_health(key).state
allowed_again = health.allow_attempt(key)
print(json.dumps([allowed, state, allowed_again, time.monotonic() - started]))
"""


def test_a_redis_that_never_answers_costs_a_bounded_wait(tmp_path):
    """REDIS_URL pointing at a server that accepts connections and then says nothing (a hung or
    partitioned Redis): the production settings' socket timeouts plus the back-off keep the chain
    moving — breakers read as closed, and the whole sequence takes about one timeout, not forever."""
    import json
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("redis")
    root = Path(__file__).resolve().parents[2]
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections complete in the backlog; nothing ever reads or replies
        env = {
            **os.environ,
            "REDIS_URL": f"redis://127.0.0.1:{silent.getsockname()[1]}/0",
            "BTM_TESTING": "1",
            "DJANGO_SETTINGS_MODULE": "bitethemenu.settings",
        }
        env.pop("DATABASE_URL", None)
        child = subprocess.run(
            [sys.executable, "-c", SILENT_REDIS_CHILD],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert child.returncode == 0, child.stderr[-2000:]
    allowed, state, allowed_again, seconds = json.loads(child.stdout.strip().splitlines()[-1])
    assert (allowed, state, allowed_again) == (True, "closed", True)
    assert seconds < 5.0
