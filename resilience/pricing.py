"""What one AI call costs a venue, in credits, and which models a venue may pick as its primary.

The price of a call is decided by the venue's AI settings: its primary model's price for that kind,
or — with "Platform default" — the kind's default cost (settings.CREDIT_COSTS, `CREDIT_COST_*`).
Whichever leg of the chain answers, the venue pays that price (the fallback is our business).

Each model's price is the kind's default times its tier below. Every registry model is listed
(a test checks it), so adding one to the registry means deciding its price. A model id the super
admin typed into a chain row is approved for venues too, at the kind's default (tier 1), unless
this table knows it.

Tiers, from the providers' own price lists (PROVIDERS.md, about Oct 2026): 1 = the everyday model
of its kind (nano-banana-2, DeepSeek, Haiku, Mistral OCR, small embeddings); 2 = flagship quality
(nano-banana-pro, GPT-4o, Claude Sonnet 4.6); 3 = premium or reasoning (gpt-image-2, GPT-5,
Claude Sonnet 5); 5 = the largest reasoning models (Claude Opus).
"""

from __future__ import annotations

from django.conf import settings

from bitethemenu.models import Venue
from resilience.models import ChainCandidate, VenuePrimary
from resilience.registry import SIMULATED_MODELS, available_providers
from resilience.types import SERVICE_KINDS

_SIMULATED = dict.fromkeys(SIMULATED_MODELS, 1)

TIERS: dict[str, dict[str, int]] = {
    "image": {
        "nano-banana-2": 1,
        "google/nano-banana": 1,
        "google/nano-banana-edit": 1,
        "google/gemini-2.5-flash-image": 1,
        "nano-banana-pro": 2,
        "gpt-image-2": 3,
        "gpt-image-2-2026-04-21": 3,
        **_SIMULATED,
    },
    "chat": {
        "deepseek-v4-flash": 1,
        "deepseek-flash": 1,
        "deepseek/deepseek-chat-v3-0324": 1,
        "deepseek/deepseek-v3.2": 1,
        "qwen/qwen3-235b-a22b-2507": 1,
        "claude-haiku-4-5-20251001": 1,
        "llama3.1": 1,
        "gpt-4o": 2,
        "openai/gpt-4o": 2,
        "claude-sonnet-4-6": 2,
        "anthropic/claude-sonnet-4.6": 2,
        "deepseek-v4-pro": 2,
        "gpt-5": 3,
        "claude-sonnet-5": 3,
        "anthropic/claude-sonnet-5": 3,
        "claude-opus-4-8": 5,
        **_SIMULATED,
    },
    "ocr": {
        "mistral-ocr-latest": 1,
        "claude-haiku-4-5-20251001": 1,
        "llava": 1,
        "gpt-4o": 2,
        "openai/gpt-4o": 2,
        "claude-sonnet-4-6": 2,
        "anthropic/claude-sonnet-4.6": 2,
        "gpt-5": 3,
        "claude-sonnet-5": 3,
        **_SIMULATED,
    },
    "embedding": {
        "text-embedding-3-small": 1,
        "openai/text-embedding-3-small": 1,
        "mistral-embed": 1,
        "nomic-embed-text": 1,
        "text-embedding-3-large": 2,
        **_SIMULATED,
    },
}


def default_credits(kind: str) -> int:
    """The kind's price with "Platform default" (settings.CREDIT_COSTS)."""
    return int(settings.CREDIT_COSTS[kind])


def model_credits(kind: str, model: str) -> int:
    """What one `kind` call costs a venue whose primary is `model`."""
    return default_credits(kind) * TIERS.get(kind, {}).get(model.strip(), 1)


def credits_for(venue: Venue, kind: str) -> int:
    """The price of the venue's next `kind` call: its primary model's, else the kind's default.
    One query. (Composer passes this to the credit gate: credits never imports resilience.)"""
    model = VenuePrimary.objects.filter(venue=venue, kind=kind).values_list("model", flat=True).first()
    return model_credits(kind, model) if model else default_credits(kind)


def free_calls_per_day(kind: str) -> int:
    """How many `kind` calls a venue makes free each UTC day before the price applies."""
    return int(settings.CREDIT_FREE_CALLS_PER_DAY.get(kind, 0))


def approved_models(kind: str) -> dict[str, list[str]]:
    """Per available provider offering `kind`: the models a venue may pick as its primary — the
    registry's, then those the super admin typed into a chain row of this kind. One query."""
    typed: dict[str, list[str]] = {}
    rows = ChainCandidate.objects.filter(kind=kind).order_by("priority").values_list("provider", "model")
    for provider, model in rows:
        typed.setdefault(provider, []).append(model.strip())
    approved: dict[str, list[str]] = {}
    for spec in available_providers():
        if spec.supports(kind):
            models = spec.models_for(kind)
            approved[spec.id] = models + [m for m in dict.fromkeys(typed.get(spec.id, [])) if m not in models]
    return approved


def is_approved(kind: str, provider: str, model: str) -> bool:
    """May a venue pick this provider+model as its `kind` primary?"""
    return kind in SERVICE_KINDS and model.strip() in approved_models(kind).get(provider, [])
