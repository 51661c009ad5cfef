"""Rate limits on paid AI calls and on "Test candidate" probes, shared by every app server.

Counting is done by `limits` (a maintained library) in a moving one-minute window, stored where
settings.RATE_LIMIT_STORAGE_URL says: by default REDIS_URL, so every app server sees the same
counts; without Redis, in this process's memory (the embedded default, one server).

- `check_paid_call(venue=, actor=)`: per venue (RATE_LIMIT_PAID_PER_VENUE a minute) and per user /
  API-key owner (RATE_LIMIT_PAID_PER_ACTOR), called by composer.services before anything is charged.
- `check_probe(user=)`: per super admin (RATE_LIMIT_PROBES_PER_ADMIN a minute).

Over a limit: `RateLimited` (FriendlyError `rate_limited`, 429) with `retry_after` seconds; the API
sends it as `Retry-After`, pages show the amber banner. If the storage is unreachable the call is
let through (logged): a cache outage must not stop paid work — credits still bound it.
"""

from __future__ import annotations

import logging
import math
import time
from functools import cache
from typing import Any

from django.conf import settings
from limits import RateLimitItemPerMinute, storage, strategies

from bitethemenu.errors import FriendlyError

logger = logging.getLogger(__name__)

PAID_MESSAGE = "You're going a little fast. Please wait {wait} and try again — nothing was charged."
PROBE_MESSAGE = "That's a lot of tests in a minute. Please wait {wait} before testing again."


class RateLimited(FriendlyError):
    """Too many calls in a short time: nothing was charged or run. `retry_after`: whole seconds."""

    def __init__(self, user_message: str, technical_detail: str, *, retry_after: int):
        super().__init__("rate_limited", user_message, technical_detail, http_status=429)
        self.retry_after = retry_after


@cache
def _limiter(url: str) -> strategies.MovingWindowRateLimiter:
    options: dict[str, Any] = {}
    if url.startswith(("redis://", "rediss://")):
        # Bounded waits, like the cache's: an unreachable Redis costs a call a second, not minutes.
        options = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(url, **options))


def limiter() -> strategies.MovingWindowRateLimiter:
    return _limiter(settings.RATE_LIMIT_STORAGE_URL)


def reset() -> None:
    """Forget every count and any storage back-off (tests; an operator after raising a limit)."""
    global _storage_down_until
    _storage_down_until = 0.0
    try:
        limiter().storage.reset()
    except Exception:  # noqa: BLE001 — nothing to forget in a store that is down
        logger.warning("rate limit storage unavailable; nothing reset")


def _wait_words(seconds: int) -> str:
    return "a moment" if seconds <= 1 else f"{seconds} seconds"


# After the storage failed, calls go through unchecked for this long instead of each waiting for
# the storage's timeout again (the same idea as resilience.health's cache back-off).
STORAGE_BACKOFF_SECONDS = 30.0
_storage_down_until = 0.0


def _hit(per_minute: int, *identifiers: str) -> int:
    """Count one call; 0 when it is allowed, else the seconds until it would be."""
    global _storage_down_until
    if per_minute <= 0 or time.monotonic() < _storage_down_until:
        return 0
    item = RateLimitItemPerMinute(per_minute)
    try:
        if limiter().hit(item, "btm", *identifiers):
            return 0
        reset_at = limiter().get_window_stats(item, "btm", *identifiers).reset_time
    except Exception:  # noqa: BLE001 — a storage outage lets the call through (see the module doc)
        logger.warning(
            "rate limit storage unavailable; letting calls through for %.0f s", STORAGE_BACKOFF_SECONDS
        )
        _storage_down_until = time.monotonic() + STORAGE_BACKOFF_SECONDS
        return 0
    return max(1, math.ceil(reset_at - time.time()))


def check_paid_call(*, venue: Any, actor: Any = None) -> None:
    """Count one paid AI call for `venue` and `actor` (a user, or None for the platform's own
    follow-up calls); raise RateLimited when either is over its per-minute limit."""
    wait = 0
    # The user first: someone refused for going too fast must not use up the venue's allowance.
    if actor is not None and getattr(actor, "pk", None):
        wait = _hit(settings.RATE_LIMIT_PAID_PER_ACTOR, "paid-actor", str(actor.pk))
    if not wait:
        wait = _hit(settings.RATE_LIMIT_PAID_PER_VENUE, "paid-venue", str(venue.pk))
    if wait:
        raise RateLimited(
            PAID_MESSAGE.format(wait=_wait_words(wait)),
            f"over the paid-call limit for this venue or user; retry after {wait} s",
            retry_after=wait,
        )


def check_probe(*, user: Any) -> None:
    """Count one "Test candidate" probe by `user` (a super admin); raise RateLimited when over
    RATE_LIMIT_PROBES_PER_ADMIN a minute."""
    wait = _hit(settings.RATE_LIMIT_PROBES_PER_ADMIN, "probe", str(user.pk))
    if wait:
        raise RateLimited(
            PROBE_MESSAGE.format(wait=_wait_words(wait)),
            f"over the probe limit; retry after {wait} s",
            retry_after=wait,
        )
