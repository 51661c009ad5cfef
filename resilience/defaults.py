"""The platform's seeded fallback chains: what "Reset to defaults" restores.

The seed's lists (seed/service-resilience.txt) with model ids that work today (PROVIDERS.md).
Several of the seed's models have since been retired by their labs; each replacement is noted on
the candidate (`notes`) and in the README:
- OpenAI `gpt-image-1` (shut down 2026-10-23) → `gpt-image-2`;
- DeepSeek `deepseek-chat` (retired 2026-07-24) → `deepseek-v4-flash`.

`env_key` / `base_url` are left empty on purpose: empty means "the provider's default" (the
registry), so moving a key or a base URL in the environment needs no chain edit.
The data migration 0002 seeds a frozen copy of this list; a test keeps the two equal.
"""

from __future__ import annotations

from resilience.chains import CandidateSpec

DEFAULT_CHAINS: dict[str, list[CandidateSpec]] = {
    "image": [
        CandidateSpec(
            "KIE Nano Banana 2",
            "kie",
            "nano-banana-2",
            notes="Gemini 3.1 Flash Image: fast, up to 4K. Primary.",
        ),
        CandidateSpec(
            "KIE Nano Banana Pro",
            "kie",
            "nano-banana-pro",
            notes="Gemini 3 Pro Image: higher quality. Use when Banana 2 underwhelms.",
        ),
        CandidateSpec(
            "KIE Nano Banana Edit",
            "kie",
            "google/nano-banana-edit",
            notes="Reference-image-aware: needs the venue's own photo, skipped when there is none.",
        ),
        CandidateSpec(
            "OpenAI gpt-image-2",
            "openai",
            "gpt-image-2",
            notes="Last-ditch outside KIE; more expensive per call. "
            "Replaces the seed's gpt-image-1 (shut down 2026-10-23).",
        ),
    ],
    "chat": [
        CandidateSpec(
            "Claude Sonnet 4.6 (via OpenRouter)",
            "openrouter",
            "anthropic/claude-sonnet-4.6",
            notes="Anthropic flagship for writing voice.",
        ),
        CandidateSpec(
            "GPT-4o (via OpenRouter)", "openrouter", "openai/gpt-4o", notes="OpenAI flagship as second."
        ),
        CandidateSpec(
            "Qwen3 235B (via OpenRouter)",
            "openrouter",
            "qwen/qwen3-235b-a22b-2507",
            notes="Alibaba flagship for Chinese / English bilingual diversity.",
        ),
        CandidateSpec(
            "DeepSeek V3 (via OpenRouter)", "openrouter", "deepseek/deepseek-chat-v3-0324", notes="Cheap."
        ),
        CandidateSpec(
            "DeepSeek V4 Flash (direct)",
            "deepseek",
            "deepseek-v4-flash",
            notes="Cheapest floor, no OpenRouter markup. "
            "Replaces the seed's deepseek-chat (retired 2026-07-24).",
        ),
    ],
    "ocr": [
        CandidateSpec(
            "Mistral OCR",
            "mistral",
            "mistral-ocr-latest",
            notes="Purpose-built document OCR (PDF and images).",
        ),
        CandidateSpec(
            "GPT-4o vision (via OpenRouter)",
            "openrouter",
            "openai/gpt-4o",
            notes="A vision chat model asked to transcribe the menu.",
        ),
        CandidateSpec(
            "Anthropic Claude Sonnet 4.6 (vision)",
            "anthropic",
            "claude-sonnet-4-6",
            notes="Vision through the Messages API.",
        ),
    ],
    "embedding": [
        CandidateSpec(
            "OpenAI text-embedding-3-small", "openai", "text-embedding-3-small", notes="1536 dimensions."
        ),
        CandidateSpec(
            "OpenRouter embeddings",
            "openrouter",
            "openai/text-embedding-3-small",
            notes="Same model through OpenRouter: vectors stay comparable with the first leg.",
        ),
        CandidateSpec(
            "Mistral mistral-embed",
            "mistral",
            "mistral-embed",
            notes="1024 dimensions: a different space, searched only against its own vectors.",
        ),
    ],
}

# The offline demo's safety net: `seed_demo` (DEBUG only) appends it to each chain so "Platform default"
# answers with no keys and no network. Never seeded by a migration and not part of "Reset to defaults":
# production chains never contain it, and with SIMULATED_PROVIDER_ENABLED off the cascade skips it anyway.
DEMO_LABEL = "Demo (offline)"
DEMO_CANDIDATE = CandidateSpec(
    DEMO_LABEL,
    "simulated",
    "ok",
    notes="Demo only: the offline simulated provider, added by seed_demo so the demo works without keys.",
)


def is_demo_candidate(spec: CandidateSpec) -> bool:
    return spec.provider == DEMO_CANDIDATE.provider and spec.label == DEMO_LABEL


def with_demo_candidate(specs: list[CandidateSpec]) -> list[CandidateSpec]:
    """`specs` with the demo candidate last (moved there if it was elsewhere, added once if missing)."""
    return [spec for spec in specs if not is_demo_candidate(spec)] + [DEMO_CANDIDATE]
