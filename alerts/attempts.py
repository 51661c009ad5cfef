"""One leg of a cascade, as the audit records it.

Lives in `alerts` (the lower layer) so `resilience` can build these and `alerts` can store them
without an import cycle: resilience → alerts → bitethemenu.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attempt:
    label: str  # the candidate's display label, e.g. "KIE Nano Banana 2"
    provider: str  # registry id, e.g. "kie"
    model: str
    outcome: str  # "ok" | "failed" | "skipped"
    reason: str = ""  # a normalised reason (resilience.errors.Reason value) or "" on success
    status_code: int | None = None
    message: str = ""  # short, secret-free
    duration_ms: int = 0
    # Usage and the estimated provider cost in USD (resilience.provider_costs), when the answer
    # reported usage; None = unknown. Failed attempts usually cost nothing and report nothing.
    input_tokens: int | None = None
    output_tokens: int | None = None
    images: int | None = None
    cost_usd: float | None = None

    @property
    def summary(self) -> str:
        """ "label → reason (status): message", the shape of Alert.last_error (API.md) and of each leg
        in the inbox's audit. A 2xx that still failed (a safety refusal inside a 200) shows no status."""
        return leg_summary(self)


def leg_summary(leg: Any) -> str:
    """The one wording of a leg (an Attempt or a stored AlertAttempt): "label → reason (status): message"."""
    text = f"{leg.label} → {leg.reason or leg.outcome}"
    if leg.status_code is not None and not 200 <= leg.status_code < 300:
        text += f" ({leg.status_code})"
    if leg.message:
        text += f": {leg.message}"
    return text


# What a super admin can act on first: a key, quota or retired model to fix; then a provider that broke;
# then one that was slow or busy; a safety refusal (the request's content) last among failures.
_ACTIONABLE = {
    "auth": 0,
    "quota": 0,
    "model_not_found": 0,
    "server": 1,
    "malformed_response": 1,
    "bad_request": 1,
}
_PASSING = {"timeout": 2, "rate_limit": 2}


def most_informative(legs: Sequence[Any]) -> Any | None:
    """The leg that says most about why a chain failed: a failure, never a skip unless every leg was
    skipped (then the first skip). Among failures, the most actionable reason; ties go to the earlier leg
    (the venue's primary before its fallbacks)."""
    failures = [leg for leg in legs if leg.outcome == "failed"]
    if failures:
        return min(failures, key=lambda leg: _ACTIONABLE.get(leg.reason, _PASSING.get(leg.reason, 3)))
    skips = [leg for leg in legs if leg.outcome != "ok"]
    return skips[0] if skips else None
