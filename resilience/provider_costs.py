"""Each registry model's price basis, and the estimated provider cost of one answered attempt.

PROVIDERS.md has no prices, so every entry here is an ESTIMATE from the providers' public price pages
as last known, marked with the date it was written down (`checked`). Re-check before trusting a
figure for billing: these feed the super admin's health page and metrics ("estimated cost"), never
what a venue is charged (that is credits, settings.CREDIT_COSTS).

A price basis is per image (image models, Mistral OCR pages) and/or per 1,000 tokens in and out
(chat, OCR through a vision model, embeddings), in USD. A model not listed has no estimate (cost
shown as "—"), which is better than a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

ESTIMATED_ON = "2026-12-01"


@dataclass(frozen=True)
class PriceBasis:
    """USD per image and per 1,000 input / output tokens; `estimate` True unless checked against an
    invoice or a price page quoted in PROVIDERS.md."""

    per_image: float = 0.0
    per_1k_input: float = 0.0
    per_1k_output: float = 0.0
    checked: str = ESTIMATED_ON
    estimate: bool = True

    def cost(self, *, input_tokens: int | None, output_tokens: int | None, images: int | None) -> float:
        return (
            (images or 0) * self.per_image
            + (input_tokens or 0) / 1000 * self.per_1k_input
            + (output_tokens or 0) / 1000 * self.per_1k_output
        )


def _tokens(per_million_in: float, per_million_out: float = 0.0) -> PriceBasis:
    # Price pages quote per million tokens; the basis is per 1,000.
    return PriceBasis(per_1k_input=per_million_in / 1000, per_1k_output=per_million_out / 1000)


def _image(usd: float) -> PriceBasis:
    return PriceBasis(per_image=usd)


# (provider, model) → basis. OpenRouter passes the upstream price through (its fee is on top-ups).
PRICES: dict[tuple[str, str], PriceBasis] = {
    ("kie", "nano-banana-2"): _image(0.04),
    ("kie", "nano-banana-pro"): _image(0.09),
    ("kie", "google/nano-banana-edit"): _image(0.02),
    ("kie", "google/nano-banana"): _image(0.02),
    ("openai", "gpt-image-2"): _image(0.04),
    ("openai", "gpt-image-2-2026-04-21"): _image(0.04),
    ("openai", "gpt-4o"): _tokens(2.50, 10.00),
    ("openai", "gpt-5"): _tokens(1.25, 10.00),
    ("openai", "text-embedding-3-small"): _tokens(0.02),
    ("openai", "text-embedding-3-large"): _tokens(0.13),
    ("openrouter", "google/gemini-2.5-flash-image"): _image(0.039),
    ("openrouter", "anthropic/claude-sonnet-4.6"): _tokens(3.00, 15.00),
    ("openrouter", "anthropic/claude-sonnet-5"): _tokens(3.00, 15.00),
    ("openrouter", "openai/gpt-4o"): _tokens(2.50, 10.00),
    ("openrouter", "qwen/qwen3-235b-a22b-2507"): _tokens(0.08, 0.55),
    ("openrouter", "deepseek/deepseek-chat-v3-0324"): _tokens(0.25, 0.85),
    ("openrouter", "deepseek/deepseek-v3.2"): _tokens(0.27, 0.40),
    ("openrouter", "openai/text-embedding-3-small"): _tokens(0.02),
    ("anthropic", "claude-sonnet-4-6"): _tokens(3.00, 15.00),
    ("anthropic", "claude-sonnet-5"): _tokens(3.00, 15.00),
    ("anthropic", "claude-haiku-4-5-20251001"): _tokens(1.00, 5.00),
    ("anthropic", "claude-opus-4-8"): _tokens(5.00, 25.00),
    ("deepseek", "deepseek-v4-flash"): _tokens(0.14, 0.28),
    ("deepseek", "deepseek-flash"): _tokens(0.14, 0.28),
    ("deepseek", "deepseek-v4-pro"): _tokens(0.55, 2.20),
    ("mistral", "mistral-ocr-latest"): _image(0.001),  # per page processed
    ("mistral", "mistral-embed"): _tokens(0.10),
    # Offline and self-hosted: no provider bill.
    ("simulated", "*"): PriceBasis(checked=ESTIMATED_ON, estimate=False),
    ("openai_compatible", "*"): PriceBasis(checked=ESTIMATED_ON, estimate=False),
}


def price_basis(provider: str, model: str) -> PriceBasis | None:
    """The basis for this model, a provider-wide one ("*"), or None when unknown."""
    return PRICES.get((provider, model)) or PRICES.get((provider, "*"))


def estimate_cost(
    provider: str,
    model: str,
    *,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    images: int | None = None,
) -> float | None:
    """Estimated USD for one answer with this usage; None when the model has no price basis."""
    basis = price_basis(provider, model)
    if basis is None:
        return None
    return basis.cost(input_tokens=input_tokens, output_tokens=output_tokens, images=images)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


class Usage(TypedDict):
    input_tokens: int | None
    output_tokens: int | None


def usage_of(body: Any) -> Usage:
    """`input_tokens` / `output_tokens` from a wire body's `usage` object, for AIOutput(**usage_of(body)).

    OpenAI, OpenRouter, DeepSeek and Mistral chat/embeddings say `prompt_tokens` / `completion_tokens`;
    Anthropic and OpenAI's image models say `input_tokens` / `output_tokens`. Absent or odd values are
    None (unknown), never an error: usage is for cost estimates only.
    """
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return {"input_tokens": None, "output_tokens": None}
    given_in = _count(usage.get("input_tokens"))
    given_out = _count(usage.get("output_tokens"))
    return {
        "input_tokens": given_in if given_in is not None else _count(usage.get("prompt_tokens")),
        "output_tokens": given_out if given_out is not None else _count(usage.get("completion_tokens")),
    }
