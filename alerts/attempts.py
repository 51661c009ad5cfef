"""One leg of a cascade, as the audit records it.

Lives in `alerts` (the lower layer) so `resilience` can build these and `alerts` can store them
without an import cycle: resilience → alerts → bitethemenu.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        """ "label → reason (status): message", the shape of Alert.last_error (API.md)."""
        text = f"{self.label} → {self.reason or self.outcome}"
        if self.status_code is not None:
            text += f" ({self.status_code})"
        if self.message:
            text += f": {self.message}"
        return text
