"""Provider health and a circuit breaker per chain candidate, shared through the Django cache.

A candidate is identified by `candidate_key(provider, model, base_url)`. Its breaker:

- **closed**: calls go through. A run of `settings.BREAKER_FAILURE_THRESHOLD` consecutive *countable*
  failures (the provider's fault: server, timeout, rate_limit, auth, model_not_found, quota,
  malformed_response) opens it.
- **open**: `allow_attempt` is False for `settings.BREAKER_COOLDOWN_SECONDS`; the cascade skips the
  candidate instantly (reason "skipped", message "breaker open") instead of waiting on a timeout.
- **half_open**: the cool-down is over. Exactly one caller, across every process sharing the cache,
  wins the probe (an atomic `cache.add` of a probe-lock key, returned by `admit` as a token); the rest
  are still skipped. The probe's own success closes the breaker, its failure re-opens it for another
  cool-down; calls that started before the opening (stragglers) change nothing. A timeout that our own
  deadline cut short is not counted (`countable=False`) and hands the probe on.

`safety` and `bad_request` are the *request's* fault, not the provider's: they never count, and since
the provider answered coherently they count as proof of life (they reset the run and close a
half-open breaker). `skipped` means no call was made and is ignored.

State lives in the cache (Redis via REDIS_URL in production, so several app servers share it; local
memory in the embedded default). The cache is an optimisation, never a dependency: if it raises,
the breaker reads as closed, stats are dropped and a warning is logged (at most once a minute); the
process then leaves the cache alone for CACHE_RETRY_SECONDS, so a cache that hangs until its socket
timeout costs one call that wait, not every call.

Health stats (success rate, median latency, last error) cover the last hour, from the most recent
`SAMPLE_LIMIT` attempts kept in one cache key per candidate, so each candidate uses a handful of
keys (local memory culls a third of its entries when full, and a culled breaker would quietly close).
The sample list is read-modify-write: exact within a process (a lock per candidate), approximate
across processes (two writers at the same instant can drop one sample). The breaker's own state uses
atomic operations only (`add`, `incr`), because there a lost update would mean a second probe.

Times come from the module-level `now` (seconds since the epoch), which tests replace with a fake
clock; cache TTLs are only for garbage collection and never decide a state.
"""

from __future__ import annotations

import hashlib
import logging
import math
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core.cache import caches

from resilience.errors import Reason

logger = logging.getLogger(__name__)

# Replace in tests (monkeypatch.setattr(health, "now", clock)); every state decision reads it.
now: Callable[[], float] = time.time
# Process-local timing of cache failures (the warning's rate limit, the back-off); replaceable too.
monotonic: Callable[[], float] = time.monotonic

State = Literal["closed", "open", "half_open"]

WINDOW_SECONDS = 3600  # health stats cover the last hour
SAMPLE_LIMIT = 100  # the most recent attempts kept per candidate
CACHE_ALIAS = "default"
KEY_PREFIX = "btm:health:v1:"
_STATE_TTL = 7 * 24 * 3600  # breaker keys outlive any cool-down; the TTL only collects garbage
_LAST_ERROR_TTL = 24 * 3600

# The request's fault, not the provider's: a safety refusal or a malformed request says nothing
# about whether the provider is up.
NEUTRAL_REASONS = frozenset({Reason.SAFETY, Reason.BAD_REQUEST})
# No call was made (no key, breaker open): nothing to learn.
IGNORED_REASONS = frozenset({Reason.SKIPPED})
COUNTABLE_REASONS = frozenset(Reason) - NEUTRAL_REASONS - IGNORED_REASONS

# Serialise this process's read-modify-write of each candidate's sample list.
_sample_locks: dict[str, threading.Lock] = {}
_WARN_EVERY_SECONDS = 60.0
_last_warning_at = -_WARN_EVERY_SECONDS
# After a cache failure this process leaves that cache alone for a few seconds (breakers read as
# closed): an unreachable Redis that times out instead of refusing would otherwise cost every AI call
# a timeout per cache operation. Monotonic time, per cache alias.
CACHE_RETRY_SECONDS = 5.0
_cache_down_until: dict[str, float] = {}


@dataclass(frozen=True)
class CandidateHealth:
    """Runtime health of one candidate, for the super admin (never shown to venues).

    `success_rate` (0.0–1.0) is None without attempts in the last hour, `median_latency_ms` (of
    successful attempts) None without successes;
    `last_error` is "reason: message" of the latest failed attempt (kept a day), "" if none.
    `retry_at` is when an open breaker lets its probe through (epoch seconds), else None.
    """

    state: State = "closed"
    success_rate: float | None = None
    median_latency_ms: int | None = None
    last_error: str = ""
    samples: int = 0
    consecutive_failures: int = 0
    retry_at: float | None = None
    last_error_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.state != "closed"

    @property
    def cooldown_left_seconds(self) -> int | None:
        """Whole seconds until an open breaker lets its one probe through; None unless open."""
        return None if self.retry_at is None else max(0, math.ceil(self.retry_at - now()))

    @property
    def success_percent(self) -> int | None:
        return None if self.success_rate is None else round(self.success_rate * 100)


class _CacheDown(Exception):
    """The cache raised; callers fall back to "closed" and drop stats."""


def candidate_key(provider: str, model: str, base_url: str = "") -> str:
    """A stable id for provider+model+base URL (the cascade's dedupe identity).

    An empty base URL means the provider's default, so "" and the explicit default give the same
    key. The URL is normalised (scheme and host lower-cased, trailing slash dropped) and stripped of
    credentials, query and fragment, so the key is safe to log.
    """
    from resilience.registry import effective_base_url

    base = effective_base_url(provider, base_url)
    parts = urlsplit(base)
    host = (parts.hostname or "").lower()
    if parts.port:
        host = f"{host}:{parts.port}"
    clean = urlunsplit((parts.scheme.lower(), host, parts.path.rstrip("/"), "", ""))
    return f"{provider}|{model}|{clean}"


def _base(key: str) -> str:
    # Hashed: cache keys must be short and free of spaces/control characters (memcached rules,
    # which Django warns about on every backend), and model ids / URLs are neither.
    return KEY_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _cache() -> Any:
    return caches[CACHE_ALIAS]


def _threshold() -> int:
    return max(1, settings.BREAKER_FAILURE_THRESHOLD)


def _cooldown() -> float:
    return max(0.0, float(settings.BREAKER_COOLDOWN_SECONDS))


def _probe_lock_ttl() -> int:
    # A probe that never reports back (its process died) must not block the candidate forever:
    # the lock lapses after a cool-down plus the longest per-attempt timeout.
    longest = max(settings.AI_ATTEMPT_TIMEOUT.values(), default=60.0)
    return int(_cooldown() + longest) + 1


def _warn_cache_down(exc: BaseException) -> None:
    global _last_warning_at
    moment = monotonic()
    _cache_down_until[CACHE_ALIAS] = moment + CACHE_RETRY_SECONDS
    if moment - _last_warning_at >= _WARN_EVERY_SECONDS:
        _last_warning_at = moment
        logger.warning(
            "health cache unavailable (%s); circuit breakers read as closed and stats are dropped",
            type(exc).__name__,
        )


def _skip_if_recently_down() -> None:
    if monotonic() < _cache_down_until.get(CACHE_ALIAS, float("-inf")):
        raise _CacheDown


def _call(method: str, *args: Any, **kwargs: Any) -> Any:
    """One cache call; any exception becomes _CacheDown (after a rate-limited warning). Within
    CACHE_RETRY_SECONDS of a failure, _CacheDown at once without touching the cache."""
    _skip_if_recently_down()
    try:
        return getattr(_cache(), method)(*args, **kwargs)
    except Exception as exc:  # any backend failure: connection refused, timeout, bad pickle…
        _warn_cache_down(exc)
        raise _CacheDown from exc


def _state_of(open_until: float | None) -> State:
    if open_until is None:
        return "closed"
    return "open" if now() < open_until else "half_open"


def _probe_key(base: str, open_until: float) -> str:
    # One lock per opening: a re-open gets a new generation, so a stale lock never blocks it.
    return f"{base}:probe:{open_until!r}"


def is_open(key: str) -> bool:
    """True while the breaker is not closed (open, or half-open awaiting its probe's verdict).
    False if the cache is unreachable."""
    try:
        return _state_of(_call("get", _base(key) + ":open")) != "closed"
    except _CacheDown:
        return False


@dataclass(frozen=True)
class Admission:
    """The breaker's answer to "may I call this candidate now?". `probe` is set when this caller won
    the one probe of a half-open breaker: pass it back to `record_outcome`, whose verdict on that
    probe alone then closes or re-opens the breaker."""

    allowed: bool
    probe: str = ""


def admit(key: str) -> Admission:
    """May the cascade call this candidate now? Never raises.

    Closed → allowed. Open (cool-down running) → not allowed. Half-open → allowed for exactly one
    caller across all processes sharing the cache (the probe, which gets a token), not for the others
    until the probe reports. Cache unreachable → allowed (the chain must work without the cache).
    """
    base = _base(key)
    try:
        open_until = _call("get", base + ":open")
        state = _state_of(open_until)
        if state == "closed":
            return Admission(True)
        if state == "open":
            return Admission(False)
        probe = _probe_key(base, open_until)
        if _call("add", probe, now(), timeout=_probe_lock_ttl()):
            return Admission(True, probe=probe)
        return Admission(False)
    except _CacheDown:
        return Admission(True)


def allow_attempt(key: str) -> bool:
    """`admit(key).allowed`: for callers that never report back as the probe."""
    return admit(key).allowed


def open_keys(keys: list[str]) -> set[str]:
    """Which of these candidates are not closed (open, or half-open awaiting a probe), in one cache
    round trip. Empty if the cache is unreachable. Used to count the candidates a walk can still try."""
    bases = {_base(key) + ":open": key for key in keys}
    try:
        values = _call("get_many", list(bases))
    except _CacheDown:
        return set()
    return {bases[name] for name, open_until in values.items() if _state_of(open_until) != "closed"}


def record_outcome(
    key: str,
    *,
    ok: bool,
    reason: str = "",
    duration_ms: int = 0,
    message: str = "",
    probe: str = "",
    countable: bool = True,
) -> None:
    """Record one real attempt's outcome: update the breaker and the last hour's stats. Never raises.

    `reason` is a `Reason` value ("" on success); `message` is the attempt's short, secret-free
    message (shown as the last error). Skipped attempts are ignored. `countable=False` says the
    failure tells nothing about the provider (a timeout our own deadline cut short): it is a sample,
    never a step towards opening, and a probe that ends that way hands the probe to the next caller.

    While the breaker is closed, a countable failure extends the run of failures (opening the breaker
    at the threshold); a success or a neutral failure (safety, bad_request) resets it. Once it is open,
    only the probe's own result decides (pass the `probe` token from `admit`): a straggler that
    started before the opening changes nothing.

    Cost on the hot path (a success on a closed breaker): two cache round trips.
    """
    if not ok and reason in IGNORED_REASONS:
        return
    base = _base(key)
    try:
        with _lock_for(base):
            current = _call("get_many", [base + ":open", base + ":fails", base + ":samples"])
            _record_sample(
                base, current.get(base + ":samples"), ok=ok, reason=reason, duration_ms=duration_ms
            )
        if not ok:
            _call("set", base + ":last_error", (now(), _error_text(reason, message)), timeout=_LAST_ERROR_TTL)
        open_until = current.get(base + ":open")
        if open_until is None:
            _judge_closed(key, base, ok=ok or reason in NEUTRAL_REASONS, countable=countable, current=current)
        elif probe and probe == _probe_key(base, open_until):
            _judge_probe(key, base, probe, ok=ok or reason in NEUTRAL_REASONS, countable=countable)
    except _CacheDown:
        return


def _judge_closed(key: str, base: str, *, ok: bool, countable: bool, current: dict[str, Any]) -> None:
    if ok:
        if base + ":fails" in current:
            _close(base)
    elif countable:
        failures = _incr(base + ":fails")
        if failures >= _threshold():
            _open(base)
            logger.warning("breaker opened for %s after %d consecutive failures", _safe_label(key), failures)


def _judge_probe(key: str, base: str, probe: str, *, ok: bool, countable: bool) -> None:
    if ok:
        _close(base)
        logger.info("breaker closed for %s after a successful probe", _safe_label(key))
    elif countable:
        _open(base)
        logger.info("breaker re-opened for %s after a failed probe", _safe_label(key))
    else:
        _call("delete", probe)  # no verdict: the next caller may probe


def _lock_for(base: str) -> threading.Lock:
    # dict.setdefault is atomic under the GIL; one lock per candidate, so candidates never wait
    # on each other.
    return _sample_locks.setdefault(base, threading.Lock())


def _error_text(reason: str, message: str) -> str:
    return f"{reason}: {message}" if message else reason


def _record_sample(base: str, samples: list[Any] | None, *, ok: bool, reason: str, duration_ms: int) -> None:
    moment = now()
    kept = [s for s in samples or [] if s[0] >= moment - WINDOW_SECONDS][-(SAMPLE_LIMIT - 1) :]
    sample = (moment, ok, max(0, int(duration_ms)), reason)
    _call("set", base + ":samples", [*kept, sample], timeout=WINDOW_SECONDS + 60)


def _incr(counter: str) -> int:
    """Atomically add one to a counter that may not exist yet (Django's incr needs the key)."""
    _skip_if_recently_down()
    cache = _cache()
    try:
        cache.add(counter, 0, timeout=_STATE_TTL)
        try:
            return int(cache.incr(counter))
        except ValueError:
            # Deleted between add and incr (a success closed the breaker): start a fresh run.
            cache.set(counter, 1, timeout=_STATE_TTL)
            return 1
    except Exception as exc:  # any backend failure, as in _call
        _warn_cache_down(exc)
        raise _CacheDown from exc


def _close(base: str) -> None:
    _call("delete_many", [base + ":open", base + ":fails"])


def _open(base: str) -> None:
    _call("set", base + ":open", now() + _cooldown(), timeout=_STATE_TTL)


def _safe_label(key: str) -> str:
    # provider|model only: base URLs stay out of logs.
    return "|".join(key.split("|")[:2])


def candidate_health(key: str) -> CandidateHealth:
    """The candidate's breaker state and its last hour's stats. Never raises: an unreachable cache
    gives the empty, closed CandidateHealth()."""
    base = _base(key)
    try:
        values = _call("get_many", [base + ":open", base + ":fails", base + ":last_error", base + ":samples"])
    except _CacheDown:
        return CandidateHealth()
    moment = now()
    open_until = values.get(base + ":open")
    state = _state_of(open_until)
    last_at, last_error = values.get(base + ":last_error") or (None, "")
    recent = [s for s in values.get(base + ":samples") or [] if s[0] >= moment - WINDOW_SECONDS]
    # Latency of answers only: a hanging provider's timeouts would say "slow" when it is "down",
    # and the breaker state already says that.
    answered = [s[2] for s in recent if s[1]]
    return CandidateHealth(
        state=state,
        success_rate=(len(answered) / len(recent)) if recent else None,
        median_latency_ms=round(statistics.median(answered)) if answered else None,
        last_error=last_error,
        samples=len(recent),
        consecutive_failures=int(values.get(base + ":fails") or 0),
        retry_at=open_until if state == "open" else None,
        last_error_at=last_at,
    )


def reset(key: str) -> None:
    """Forget everything about a candidate (breaker and stats), e.g. after an admin fixes it."""
    base = _base(key)
    try:
        _call("delete_many", [base + ":open", base + ":fails", base + ":last_error", base + ":samples"])
    except _CacheDown:
        return
