"""Seed the default fallback chains (a frozen copy of resilience.defaults.DEFAULT_CHAINS).

Copied literally, not imported, so this migration keeps meaning what it meant when it was
written; tests/resilience/test_chains_defaults.py checks the copy still equals DEFAULT_CHAINS.
A kind that already has candidates is left alone (an admin's chain is never overwritten).
"""

from django.db import migrations

# (label, provider, model, notes) per kind, priority = list order; enabled, default env key/base URL.
SEED = {
    "image": [
        ("KIE Nano Banana 2", "kie", "nano-banana-2",
         "Gemini 3.1 Flash Image: fast, up to 4K. Primary."),
        ("KIE Nano Banana Pro", "kie", "nano-banana-pro",
         "Gemini 3 Pro Image: higher quality. Use when Banana 2 underwhelms."),
        ("KIE Nano Banana Edit", "kie", "google/nano-banana-edit",
         "Reference-image-aware: needs the venue's own photo, skipped when there is none."),
        ("OpenAI gpt-image-2", "openai", "gpt-image-2",
         "Last-ditch outside KIE; more expensive per call. "
         "Replaces the seed's gpt-image-1 (shut down 2026-10-23)."),
    ],
    "chat": [
        ("Claude Sonnet 4.6 (via OpenRouter)", "openrouter", "anthropic/claude-sonnet-4.6",
         "Anthropic flagship for writing voice."),
        ("GPT-4o (via OpenRouter)", "openrouter", "openai/gpt-4o", "OpenAI flagship as second."),
        ("Qwen3 235B (via OpenRouter)", "openrouter", "qwen/qwen3-235b-a22b-2507",
         "Alibaba flagship for Chinese / English bilingual diversity."),
        ("DeepSeek V3 (via OpenRouter)", "openrouter", "deepseek/deepseek-chat-v3-0324", "Cheap."),
        ("DeepSeek V4 Flash (direct)", "deepseek", "deepseek-v4-flash",
         "Cheapest floor, no OpenRouter markup. Replaces the seed's deepseek-chat (retired 2026-07-24)."),
    ],
    "ocr": [
        ("Mistral OCR", "mistral", "mistral-ocr-latest", "Purpose-built document OCR (PDF and images)."),
        ("GPT-4o vision (via OpenRouter)", "openrouter", "openai/gpt-4o",
         "A vision chat model asked to transcribe the menu."),
        ("Anthropic Claude Sonnet 4.6 (vision)", "anthropic", "claude-sonnet-4-6",
         "Vision through the Messages API."),
    ],
    "embedding": [
        ("OpenAI text-embedding-3-small", "openai", "text-embedding-3-small", "1536 dimensions."),
        ("OpenRouter embeddings", "openrouter", "openai/text-embedding-3-small",
         "Same model through OpenRouter: vectors stay comparable with the first leg."),
        ("Mistral mistral-embed", "mistral", "mistral-embed",
         "1024 dimensions: a different space, searched only against its own vectors."),
    ],
}


def _as_dict(label, provider, model, notes):
    return {"label": label, "provider": provider, "model": model, "enabled": True,
            "env_key": "", "base_url": "", "notes": notes}


def seed(apps, schema_editor):
    ChainCandidate = apps.get_model("resilience", "ChainCandidate")
    ChainRevision = apps.get_model("resilience", "ChainRevision")
    for kind, rows in SEED.items():
        if ChainCandidate.objects.filter(kind=kind).exists():
            continue
        items = [_as_dict(*row) for row in rows]
        ChainCandidate.objects.bulk_create(
            ChainCandidate(kind=kind, priority=i, **item) for i, item in enumerate(items, start=1)
        )
        ChainRevision.objects.create(kind=kind, candidates=items, summary="Seeded the default chain")


class Migration(migrations.Migration):
    dependencies = [("resilience", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
