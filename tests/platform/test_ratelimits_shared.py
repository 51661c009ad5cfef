"""Rate-limit counts live in Redis, so every app server sees the same counts (issue 14).

Two limiters built from the same Redis URL stand for two app servers. Uses Redis db 4 on
127.0.0.1:6379 (skipped when there is none) and unique ids per run.
"""

from __future__ import annotations

import socket
import uuid

import pytest
from limits import RateLimitItemPerMinute, storage, strategies

from bitethemenu import ratelimits

REDIS_URL = "redis://127.0.0.1:6379/4"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis server on 127.0.0.1:6379")
def test_two_app_servers_share_one_count(settings):
    settings.RATE_LIMIT_STORAGE_URL = REDIS_URL
    venue_id = uuid.uuid4().hex
    other_server = strategies.MovingWindowRateLimiter(storage.storage_from_string(REDIS_URL))
    item = RateLimitItemPerMinute(2)

    assert other_server.hit(item, "btm", "paid-venue", venue_id)
    assert other_server.hit(item, "btm", "paid-venue", venue_id)
    assert ratelimits._hit(2, "paid-venue", venue_id) > 0  # this server sees the other's calls


def test_an_unreachable_store_lets_calls_through_and_is_left_alone_for_a_while(settings, caplog, monkeypatch):
    settings.RATE_LIMIT_STORAGE_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    assert ratelimits._hit(1, "paid-venue", "x") == 0
    assert "rate limit storage unavailable" in caplog.text
    calls = []
    monkeypatch.setattr(ratelimits, "limiter", lambda: calls.append(1))
    assert ratelimits._hit(1, "paid-venue", "x") == 0
    assert calls == []  # backing off: no second wait for the storage's timeout
