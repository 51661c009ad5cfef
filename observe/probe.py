""" "Test candidate": one live call to a chain candidate, the way the cascade would make it.

The call goes through the cascade's own try (`resilience.cascade.try_once`): the same adapter, HTTP
seam, classifier, per-attempt timeout, redaction and audit, with a tiny fixed request per kind. It is
charged to no venue (no credit gate is involved), is recorded in the aggregates as a probe (service
PROBE_SERVICE, kept apart from venue traffic) and, like any real try, tells the breaker how it went:
a success closes an open breaker, which is what an admin who just fixed a key wants.

Rate limited per super admin (bitethemenu.ratelimits.check_probe), because each test may cost real
money at the provider.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from bitethemenu import ratelimits
from observe.record import PROBE_SERVICE
from resilience import cascade, chains
from resilience.chains import CandidateSpec
from resilience.registry import get_adapter
from resilience.types import AIRequest


@dataclass(frozen=True)
class ProbeResult:
    """What the card shows: ok + latency, or the classified reason (and status) with the redacted
    message. `outcome` is "ok", "failed", "skipped" (could not run: no key, invalid card) or
    "limited" (rate limit: nothing was called)."""

    outcome: str
    reason: str = ""
    status_code: int | None = None
    message: str = ""
    duration_ms: int = 0
    cost_usd: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


# The platform's probe limit (RATE_LIMIT_PROBES_PER_ADMIN a minute, shared by every app server):
# raises bitethemenu.ratelimits.RateLimited. A module attribute, so a test can swap it.
RATE_LIMIT = ratelimits.check_probe


@cache
def _tiny_png(text: str) -> bytes:
    """A small PNG with a line of text: the reference image / menu photo of a probe."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 48), "white")
    ImageDraw.Draw(image).text((8, 16), text, fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def probe_request(kind: str, *, with_reference: bool = False) -> AIRequest:
    """The fixed, tiny request per kind (cheapest answer the provider can give)."""
    if kind == "image":
        reference = _tiny_png("test") if with_reference else None
        return AIRequest(
            prompt="A single red apple on a plain white background.",
            reference_image=reference,
            reference_mime="image/png" if reference else "",
        )
    if kind == "chat":
        return AIRequest(prompt="Reply with the single word: ok", system="Answer in one word.")
    if kind == "ocr":
        return AIRequest(document=_tiny_png("SOUP 4.50"), document_mime="image/png")
    return AIRequest(inputs=("test",))


def probe_candidate(*, kind: str, spec: CandidateSpec, user: object) -> ProbeResult:
    """One live call to `spec` (as the card shows it, saved or not). Never raises for a provider
    failure; bitethemenu.ratelimits.RateLimited when this admin is over the probe limit (nothing is
    called).

    Skips, like the cascade: an invalid card, an unset env key, a model the provider does not offer.
    """
    problems = chains.validate_chain(kind, [spec]).get(0)
    if problems:
        return ProbeResult("skipped", message="; ".join(problems.values()))
    candidate = cascade.resolve_candidate(
        label=spec.label or f"{spec.provider} {spec.model}",
        provider=spec.provider,
        model=spec.model,
        base_url=spec.base_url,
        env_key=spec.env_key,
    )
    adapter_needs_reference = (
        candidate.spec is not None
        and candidate.spec.supports(kind)
        and get_adapter(candidate.provider).requires_reference(kind, candidate.model)
    )
    request = probe_request(kind, with_reference=adapter_needs_reference)
    skip = cascade.config_skip_reason(kind, candidate, request)
    if skip:
        return ProbeResult("skipped", message=skip)
    RATE_LIMIT(user=user)
    attempt = cascade.try_once(kind, candidate, request, service=PROBE_SERVICE)
    return ProbeResult(
        outcome=attempt.outcome,
        reason=attempt.reason,
        status_code=attempt.status_code,
        message=attempt.message,
        duration_ms=attempt.duration_ms,
        cost_usd=attempt.cost_usd,
    )
