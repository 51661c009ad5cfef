"""The cascade: walk a venue's primary, then the super-admin chain, until one candidate answers.

`run(kind, request, *, venue, service, request_id="")` is the one path every AI call takes
(DESIGN.md "The one path"):
- plan = the venue's primary for `kind` (provider default base URL), then the enabled ChainCandidate
  rows of `kind` by priority — the same provider+model+effective base URL never twice. Disabled rows are
  not part of the plan and do not appear in the audit;
- a candidate that cannot run is a *skipped* attempt, never an error: its env key is unset (the message
  names the key), its provider is unknown or lacks the kind, it needs a reference image and there is
  none, the breaker holds it open, or the walk's deadline has passed ("deadline");
- move on first: every ready candidate gets its first try before any candidate gets a second;
- each try's timeout is settings.AI_ATTEMPT_TIMEOUT[kind], capped by an equal share of what is left
  of settings.AI_CHAIN_DEADLINE[kind] among the ready candidates still to try (`attempt_timeout`);
- `safety` on a request with a reference image: an immediate try of the same candidate without it
  (a different request), at most once per candidate;
- after the whole chain failed, `rate_limit` (Retry-After ≤ MAX_RETRY_WAIT) and `server` earn one more
  try each, in chain order, only if the wait plus a full attempt timeout still fits before the
  deadline. `timeout` never does; a resumable adapter (KIE) resumes its unfinished task;
- first success wins; every try is an alerts.attempts.Attempt in the audit;
- all failed: alerts.record.record_exhaustion(...) then ChainExhausted (a FriendlyError, 503).

Database: one query of its own (the venue primary and the chain, in one round trip); record_exhaustion writes
the alert. The breaker (resilience.health) plugs in at `breaker_admit` / `breaker_record`.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.options import Options

from alerts.attempts import Attempt
from bitethemenu.models import Venue
from observe.record import record_attempt
from resilience import health
from resilience.env_keys import env_key_allowed
from resilience.errors import SECOND_TRY_REASONS, ChainExhausted, Reason
from resilience.models import ChainCandidate, VenuePrimary
from resilience.providers import base
from resilience.providers.base import ProviderError, redact
from resilience.registry import ProviderSpec, effective_base_url, get_adapter, get_provider
from resilience.types import AIOutput, AIRequest, CascadeResult

logger = logging.getLogger(__name__)

MAX_RETRY_WAIT = 10.0  # seconds: a longer Retry-After means "move on to the next candidate"
RETRY_BACKOFF = 1.0  # seconds before the one retry when the provider gave no Retry-After
MIN_ATTEMPT_SECONDS = 0.5  # less time than this left in the walk: not worth starting a call


@dataclass(frozen=True)
class Candidate:
    """One planned leg: a venue primary or a chain row, resolved against the registry."""

    label: str
    provider: str
    model: str
    base_url: str  # effective: the row's override or the provider default
    env_key: str  # effective: the row's override or the provider default ("" = none)
    spec: ProviderSpec | None

    @property
    def key(self) -> str:
        """Provider + model + base URL, normalised (host case, trailing slash): the dedupe identity, and
        the breaker's key, so two spellings of one endpoint are one candidate."""
        return health.candidate_key(self.provider, self.model, self.base_url)


# --- Plan ---------------------------------------------------------------------------------------


def resolve_candidate(
    *, label: str, provider: str, model: str, base_url: str = "", env_key: str = ""
) -> Candidate:
    spec = get_provider(provider)
    return Candidate(
        label=label,
        provider=provider,
        model=model.strip(),
        base_url=effective_base_url(provider, base_url),
        env_key=env_key.strip() or (spec.env_key if spec else ""),
        spec=spec,
    )


def _primary_label(spec: ProviderSpec | None, provider: str, model: str) -> str:
    return f"Venue primary: {spec.label if spec else provider} {model}"


def plan(kind: str, *, venue: Venue | None) -> list[Candidate]:
    """The candidates to try, in order, without duplicates: the venue primary (if any), then the
    enabled chain rows by priority. One database query.

    A primary that is also a chain row (same provider, model and base URL) is tried once, first, with
    the env key the super admin set on that row: the row is the platform's configuration of exactly
    that candidate (say, a custom key name), and an unset default key must not skip both."""
    primary: Candidate | None = None
    chain: list[Candidate] = []
    for is_chain, label, provider, model, base_url, env_key in _plan_rows(kind, venue.pk if venue else None):
        if is_chain:
            chain.append(
                resolve_candidate(
                    label=label,
                    provider=provider,
                    model=model,
                    base_url=base_url or "",
                    env_key=env_key or "",
                )
            )
        else:
            primary = resolve_candidate(
                label=_primary_label(get_provider(provider), provider, model), provider=provider, model=model
            )
    if primary is not None:
        twin = next((row for row in chain if row.key == primary.key), None)
        if twin is not None:
            primary = replace(primary, env_key=twin.env_key)
    seen: set[str] = set()
    unique = []
    for candidate in ([primary] if primary else []) + chain:
        if candidate.key not in seen:
            seen.add(candidate.key)
            unique.append(candidate)
    return unique


_PLAN_SQL: dict[str, str] = {}


def _plan_sql(connection: BaseDatabaseWrapper) -> str:
    """The venue primary and the enabled chain in one round trip (UNION ALL), built once per database
    vendor from the models' own table and column names. This runs on every AI call, so it skips the
    ORM's per-call query compilation (which costs more than the query itself on a busy machine)."""
    if connection.vendor not in _PLAN_SQL:
        q = connection.ops.quote_name
        primary, chain = VenuePrimary._meta, ChainCandidate._meta

        def col(meta: Options[Any], name: str) -> str:
            return q(str(meta.get_field(name).column))  # type: ignore[union-attr]  # concrete fields only

        _PLAN_SQL[connection.vendor] = (
            f"SELECT 0 AS is_chain, 0 AS position, '' AS label, {col(primary, 'provider')}, {col(primary, 'model')}, "
            f"'' AS base_url, '' AS env_key FROM {q(primary.db_table)} "
            f"WHERE {col(primary, 'venue')} = %s AND {col(primary, 'kind')} = %s "
            f"UNION ALL "
            f"SELECT 1, {col(chain, 'priority')}, {col(chain, 'label')}, {col(chain, 'provider')}, "
            f"{col(chain, 'model')}, {col(chain, 'base_url')}, {col(chain, 'env_key')} FROM {q(chain.db_table)} "
            f"WHERE {col(chain, 'kind')} = %s AND {col(chain, 'enabled')} = %s "
            f"ORDER BY 1, 2"
        )
    return _PLAN_SQL[connection.vendor]


def _plan_rows(kind: str, venue_id: int | None) -> list[tuple[int, str, str, str, str, str]]:
    connection = connections[ChainCandidate.objects.db]
    with connection.cursor() as cursor:
        # venue_id None matches no primary row (NULL = NULL is not true), which is what we want.
        cursor.execute(_plan_sql(connection), [venue_id, kind, kind, True])
        return [(int(row[0]), *row[2:]) for row in cursor.fetchall()]


def config_skip_reason(kind: str, candidate: Candidate, request: AIRequest) -> str:
    """Why this candidate cannot run at all ("" if it can). Cheap, no network."""
    spec = candidate.spec
    if spec is None:
        return f"unknown provider “{candidate.provider}”"
    if spec.id == "simulated" and not settings.SIMULATED_PROVIDER_ENABLED:
        return "simulated provider disabled"
    if not spec.supports(kind):
        return f"{spec.label} does not offer {kind}"
    if not candidate.model:
        return "no model set"
    if not candidate.base_url and spec.id != "simulated":
        return "no base URL set"
    # A name the operator does not allow is never read: its value would go out as a bearer token.
    if candidate.env_key and not env_key_allowed(candidate.env_key):
        return "env key not allowed"
    # Same rule as ChainCandidate.is_ready (the admin's Ready/Skipped badge): a named key must be set.
    if candidate.env_key and not os.environ.get(candidate.env_key):
        return f"{candidate.env_key} not set"
    if spec.needs_key and not candidate.env_key:
        return "no API key configured"
    if get_adapter(spec.id).requires_reference(kind, candidate.model) and not request.has_reference:
        return "needs a reference image"
    return ""


# --- Breaker hooks (resilience.health: state shared through the cache, never raises) ------------


def breaker_admit(candidate: Candidate) -> health.Admission:
    """May this candidate be called now? Called once per candidate, only for a call that will happen:
    on a half-open breaker an allowed admission is this walk's probe (it carries the token)."""
    return health.admit(candidate.key)


def breaker_record(
    candidate: Candidate,
    *,
    ok: bool,
    reason: str,
    duration_ms: int,
    message: str = "",
    probe: str = "",
    countable: bool = True,
) -> None:
    """Tell the breaker how one try went. Called after every try (not for skips); `message` is the
    attempt's redacted short message; `countable=False` for a timeout our own deadline cut short."""
    health.record_outcome(
        candidate.key,
        ok=ok,
        reason=reason,
        duration_ms=duration_ms,
        message=message,
        probe=probe,
        countable=countable,
    )


# --- The walk -----------------------------------------------------------------------------------


@dataclass
class _Walk:
    kind: str
    service: str
    deadline: float
    attempts: list[Attempt]
    venue_id: int | None = None  # for the per-attempt log line (observe)
    request_id: str = ""
    on_attempt: Callable[[str], None] | None = None

    def remaining(self) -> float:
        return self.deadline - base.CLOCK.now()

    def skip(self, candidate: Candidate, message: str) -> None:
        self.attempts.append(
            Attempt(
                label=candidate.label,
                provider=candidate.provider,
                model=candidate.model,
                outcome="skipped",
                reason=Reason.SKIPPED.value,
                message=message,
            )
        )


@dataclass
class _Leg:
    """One candidate's state within one walk."""

    candidate: Candidate
    api_key: str
    request: AIRequest  # without the reference image once the safety retry has happened
    probe: str = ""  # the half-open breaker's probe token, when this walk holds the probe
    safety_retried: bool = False
    resume: dict[str, Any] | None = None  # a resumable adapter's unfinished work (KIE: the task id)
    failure: ProviderError | None = None  # the last failure, which may earn a second try


def attempt_timeout(walk: _Walk, *, ready_left: int) -> float:
    """The budget of the next try: the kind's attempt timeout, capped by an equal share of what is
    left of the walk among the ready candidates still to try (this one included), so a hanging
    candidate can never eat the time its backups need (docs/CONTRACTS.md "Per-attempt budget")."""
    remaining = max(0.0, walk.remaining())
    return min(settings.AI_ATTEMPT_TIMEOUT[walk.kind], remaining / max(1, ready_left), remaining)


def _ready_after(walk: _Walk, later: list[Candidate], request: AIRequest) -> int:
    """How many of the later candidates could still be tried: configured, and their breaker closed."""
    configured = [c for c in later if not config_skip_reason(walk.kind, c, request)]
    if not configured:
        return 0
    held_back = health.open_keys([c.key for c in configured])
    return sum(1 for c in configured if c.key not in held_back)


def _try_once(walk: _Walk, leg: _Leg, timeout: float) -> AIOutput | ProviderError:
    candidate = leg.candidate
    adapter = get_adapter(candidate.provider)
    resume = {"resume": leg.resume} if adapter.resumable else {}
    started = base.CLOCK.now()
    try:
        output = adapter.call(
            walk.kind,
            leg.request,
            model=candidate.model,
            base_url=candidate.base_url,
            api_key=leg.api_key,
            timeout=timeout,
            **resume,
        )
        problem = unusable(walk.kind, leg.request, output)
        result: AIOutput | ProviderError = (
            ProviderError(Reason.MALFORMED_RESPONSE, problem) if problem else output
        )
    except ProviderError as error:
        result = error
    except Exception:  # an adapter bug must not break the chain: record it and move on
        logger.exception("adapter %s crashed on %s", candidate.provider, walk.kind)
        result = ProviderError(Reason.MALFORMED_RESPONSE, "adapter error")
    duration_ms = int(max(0.0, base.CLOCK.now() - started) * 1000)
    # A timeout shorter than the configured one was our deadline's doing: it says nothing about
    # the provider, so the breaker does not count it.
    cut_short = timeout < settings.AI_ATTEMPT_TIMEOUT[walk.kind] - 0.001
    countable = not (isinstance(result, ProviderError) and result.reason == Reason.TIMEOUT and cut_short)
    _audit(walk, leg, result, duration_ms, countable=countable)
    leg.probe = ""  # the probe, if this was it, has reported
    if isinstance(result, ProviderError):
        leg.failure = result
        leg.resume = result.resume
    return result


def unusable(kind: str, request: AIRequest, output: AIOutput) -> str:
    """Why an adapter's "success" cannot be used ("" when it can). Adapters already refuse empty answers;
    this is the one check for every provider, so an answer the Library could not keep (a GIF, a damaged
    or oversized image, missing vectors) is a failed leg — the walk moves on, and an exhausted chain
    alerts — rather than a success that fails later, after the chain stopped looking."""
    if kind == "image":
        return base.image_problem(output.image)
    if kind in ("chat", "ocr"):
        return "" if output.text.strip() else "no text in the answer"
    if kind == "embedding":
        vectors = output.vectors
        if len(vectors) != len(request.inputs) or any(not v or len(v) != len(vectors[0]) for v in vectors):
            return "missing or inconsistent vectors"
    return ""


_TASK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _failure_message(leg: _Leg, error: ProviderError) -> str:
    """The redacted short message; an unfinished provider task is named after it, so the super admin
    can see (and look up the cost of) work the provider may still bill."""
    message = redact(error.short, secrets=(leg.api_key,))
    if error.task_id and _TASK_ID.match(error.task_id):
        message = f"{message} · task {error.task_id} left unfinished"
    return message


def _audit(
    walk: _Walk, leg: _Leg, result: AIOutput | ProviderError, duration_ms: int, *, countable: bool
) -> None:
    candidate = leg.candidate
    ok = isinstance(result, AIOutput)
    if isinstance(result, AIOutput):
        attempt = Attempt(
            label=candidate.label,
            provider=candidate.provider,
            model=candidate.model,
            outcome="ok",
            duration_ms=duration_ms,
        )
    else:
        attempt = Attempt(
            label=candidate.label,
            provider=candidate.provider,
            model=candidate.model,
            outcome="failed",
            reason=result.reason.value,
            status_code=result.status_code,
            message=_failure_message(leg, result),
            duration_ms=duration_ms,
        )
        if result.reason == Reason.BAD_REQUEST:
            # PROVIDERS.md §8: move on, but this is most likely a bug in the request we built.
            logger.warning(
                "%s: %s (the provider rejected our request: likely a bug on our side)",
                walk.service,
                attempt.summary,
            )
        else:
            logger.info("%s: %s", walk.service, attempt.summary)
    breaker_record(
        candidate,
        ok=ok,
        reason=attempt.reason,
        duration_ms=duration_ms,
        message=attempt.message,
        probe=leg.probe,
        countable=countable,
    )
    # Aggregates, metrics, the JSON log line; adds usage and estimated cost. Never raises.
    walk.attempts.append(
        record_attempt(
            kind=walk.kind,
            service=walk.service,
            candidate_key=candidate.key,
            attempt=attempt,
            output=result if isinstance(result, AIOutput) else None,
            earlier=walk.attempts,
            venue_id=walk.venue_id,
            request_id=walk.request_id,
        )
    )


def _try_leg(walk: _Walk, leg: _Leg, *, ready_left: int) -> AIOutput | None:
    """One try of a candidate, plus the immediate retry without the reference image after a safety
    refusal (a different request, so not a second try of the same one) — at most once per candidate
    per walk. None when it failed."""
    result = _try_once(walk, leg, attempt_timeout(walk, ready_left=ready_left))
    if isinstance(result, AIOutput):
        return result
    if (
        result.reason == Reason.SAFETY
        and leg.request.has_reference
        and not leg.safety_retried
        and not get_adapter(leg.candidate.provider).requires_reference(walk.kind, leg.candidate.model)
        and walk.remaining() >= MIN_ATTEMPT_SECONDS
    ):
        # Most KIE false positives clear on a text-only retry (seed: "retries WITHOUT the reference").
        leg.safety_retried = True
        leg.request = leg.request.without_reference()
        leg.resume = None  # a new request: nothing of the refused one carries over
        result = _try_once(walk, leg, attempt_timeout(walk, ready_left=ready_left))
        if isinstance(result, AIOutput):
            return result
    return None


def second_try_wait(walk: _Walk, leg: _Leg) -> float | None:
    """Seconds to wait before this candidate's second try, or None when it gets none: its failure is
    not worth a second try, the provider asked for a long wait, its breaker is open now (a second
    try would be a second probe of a provider already judged down), or the wait plus a full attempt
    would not fit before the deadline."""
    error = leg.failure
    if error is None or error.reason not in SECOND_TRY_REASONS:
        return None
    wait = RETRY_BACKOFF if error.retry_after is None else error.retry_after
    if wait > MAX_RETRY_WAIT or wait + settings.AI_ATTEMPT_TIMEOUT[walk.kind] > walk.remaining():
        return None
    if health.is_open(leg.candidate.key):
        return None
    return wait


def api_key_for(candidate: Candidate) -> str:
    """The candidate's key from the environment ("" when it names none). Stripped: a key pasted with a
    trailing newline would otherwise be refused by requests as an invalid header ("request failed",
    counted as the provider being down)."""
    return os.environ.get(candidate.env_key, "").strip() if candidate.env_key else ""


def try_once(kind: str, candidate: Candidate, request: AIRequest, *, service: str) -> Attempt:
    """One try of one candidate outside any walk (the super admin's "Test candidate"), made exactly as
    a walk makes it — adapter, HTTP seam, classifier, the full attempt timeout, redaction, the audit
    and the breaker report — and returns its audit entry. No venue, no credits, no alert."""
    timeout = settings.AI_ATTEMPT_TIMEOUT[kind]
    walk = _Walk(kind=kind, service=service, deadline=base.CLOCK.now() + timeout, attempts=[])
    _try_once(walk, _Leg(candidate=candidate, api_key=api_key_for(candidate), request=request), timeout)
    return walk.attempts[-1]


def _first_tries(
    walk: _Walk, candidates: list[Candidate], request: AIRequest
) -> tuple[CascadeResult | None, list[_Leg]]:
    """Every candidate's first try, in order (move on first). Returns the answer, or the legs tried."""
    tried: list[_Leg] = []
    for index, candidate in enumerate(candidates):
        if walk.remaining() < MIN_ATTEMPT_SECONDS:
            for late in candidates[index:]:
                walk.skip(late, config_skip_reason(walk.kind, late, request) or "deadline")
            break
        reason = config_skip_reason(walk.kind, candidate, request)
        admission = health.Admission(False) if reason else breaker_admit(candidate)
        if not reason and not admission.allowed:
            reason = "breaker open"
        if reason:
            walk.skip(candidate, reason)
            continue
        leg = _Leg(
            candidate=candidate, api_key=api_key_for(candidate), request=request, probe=admission.probe
        )
        ready_left = 1 + _ready_after(walk, candidates[index + 1 :], request)
        if walk.on_attempt is not None:  # progress for a job's venue page (composer.jobs)
            walk.on_attempt(candidate.label)
        output = _try_leg(walk, leg, ready_left=ready_left)
        if output is not None:
            return _answered(walk, candidate, output), tried
        tried.append(leg)
    return None, tried


def _second_tries(walk: _Walk, tried: list[_Leg]) -> CascadeResult | None:
    """After the whole chain failed: one more try of each candidate whose failure was transient
    (rate_limit with a short Retry-After, server), in chain order, while a full attempt still fits."""
    for leg in tried:
        wait = second_try_wait(walk, leg)
        if wait is None:
            continue
        base.CLOCK.sleep(wait)
        if walk.on_attempt is not None:
            walk.on_attempt(leg.candidate.label)
        output = _try_leg(walk, leg, ready_left=1)
        if output is not None:
            return _answered(walk, leg.candidate, output)
    return None


def _answered(walk: _Walk, candidate: Candidate, output: AIOutput) -> CascadeResult:
    return CascadeResult(output=output, attempts=tuple(walk.attempts), answered_by=candidate.label)


def _walk(walk: _Walk, candidates: list[Candidate], request: AIRequest) -> CascadeResult | None:
    result, tried = _first_tries(walk, candidates, request)
    return result or _second_tries(walk, tried)


def technical_detail(service: str, attempts: list[Attempt] | tuple[Attempt, ...]) -> str:
    """ "service: Label → reason (status); Label → reason" — reasons and statuses only (no provider
    messages), each part redacted, so it is safe on a support ticket."""
    legs = []
    for attempt in attempts:
        leg = f"{attempt.label} → {attempt.reason or attempt.outcome}"
        if attempt.status_code is not None:
            leg += f" ({attempt.status_code})"
        if attempt.outcome == "skipped" and attempt.message:
            leg += f": {attempt.message}"  # why: a config phrase ("KIE_API_KEY not set"), never a secret
        legs.append(redact(leg))
    return f"{redact(service)}: " + "; ".join(legs)


def run(
    kind: str,
    request: AIRequest,
    *,
    venue: Venue | None,
    service: str,
    request_id: str = "",
    on_attempt: Callable[[str], None] | None = None,
) -> CascadeResult:
    """Answer `request` with the first candidate that succeeds.

    Returns a CascadeResult (output, the full audit, the winning label — for super admins only).
    Raises ChainExhausted after alerts.record.record_exhaustion(...) when every candidate failed or
    was skipped; its technical_detail names each leg and its reason, never a key or a URL.
    `on_attempt` (optional) is called with a candidate's label before each real attempt on it.
    """
    request_id = request_id or uuid.uuid4().hex
    walk = _Walk(
        kind=kind,
        service=service,
        deadline=base.CLOCK.now() + settings.AI_CHAIN_DEADLINE[kind],
        attempts=[],
        venue_id=venue.pk if venue else None,
        request_id=request_id,
        on_attempt=on_attempt,
    )
    candidates = plan(kind, venue=venue)
    result = _walk(walk, candidates, request)
    if result is not None:
        return result
    if not walk.attempts:
        walk.attempts.append(
            Attempt(
                label=f"{kind} chain",
                provider="",
                model="",
                outcome="skipped",
                reason=Reason.SKIPPED.value,
                message="no enabled candidates",
            )
        )
    attempts = tuple(walk.attempts)
    _record_exhaustion(kind=kind, service=service, venue=venue, attempts=attempts, request_id=request_id)
    raise ChainExhausted(kind, technical_detail(service, attempts), attempts=attempts, request_id=request_id)


def _record_exhaustion(
    *, kind: str, service: str, venue: Venue | None, attempts: tuple[Attempt, ...], request_id: str
) -> None:
    """Write the alert. A failure to alert is logged, never raised: the operator still gets the
    calm ChainExhausted (and the refund), not a crash."""
    try:
        from alerts.record import record_exhaustion  # lazy: alerts may load after resilience

        record_exhaustion(
            kind=kind, service=service, venue=venue, attempts=list(attempts), request_id=request_id
        )
    except Exception:
        logger.exception("could not record the exhaustion of %s (%s)", service, kind)
