"""resilience.chains: validation, atomic replace, revisions, reset and restore."""

from __future__ import annotations

import importlib

import pytest

from resilience import chains
from resilience.chains import (
    CandidateSpec,
    ChainValidationError,
    describe_changes,
    save_chain,
    validate_chain,
)
from resilience.defaults import DEFAULT_CHAINS
from resilience.models import ChainCandidate, ChainRevision

pytestmark = pytest.mark.django_db


def _rows(kind: str) -> list[tuple]:
    return list(
        ChainCandidate.objects.filter(kind=kind)
        .order_by("priority")
        .values_list("priority", "label", "provider", "model", "enabled", "env_key", "base_url")
    )


def test_the_migration_seeds_exactly_the_default_chains():
    seed = importlib.import_module("resilience.migrations.0002_seed_default_chains").SEED
    for kind, specs in DEFAULT_CHAINS.items():
        assert [(s.label, s.provider, s.model, s.notes) for s in specs] == [tuple(row) for row in seed[kind]]
        assert all(s.enabled and not s.env_key and not s.base_url for s in specs)


def test_the_seeded_chains_are_in_the_database_with_a_first_revision():
    for kind, specs in DEFAULT_CHAINS.items():
        assert [(c.label, c.model) for c in chains.load_chain(kind)] == [(s.label, s.model) for s in specs]
        assert ChainRevision.objects.filter(kind=kind).count() >= 1


def test_default_chains_validate_and_use_current_model_ids():
    for kind, specs in DEFAULT_CHAINS.items():
        assert validate_chain(kind, specs) == {}
    assert [s.model for s in DEFAULT_CHAINS["image"]] == [
        "nano-banana-2",
        "nano-banana-pro",
        "google/nano-banana-edit",
        "gpt-image-2",
    ]
    assert DEFAULT_CHAINS["chat"][-1].model == "deepseek-v4-flash"
    assert DEFAULT_CHAINS["embedding"][0].model == "text-embedding-3-small"


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (CandidateSpec("X", "nope", "m"), "provider"),
        (CandidateSpec("X", "", "m"), "provider"),
        (CandidateSpec("X", "kie", "nano-banana-2"), "provider"),  # KIE has no chat models
        (CandidateSpec("X", "openai", "  "), "model"),
        (CandidateSpec("X", "openai", "gpt 4o"), "model"),
        (CandidateSpec(" ", "openai", "gpt-4o"), "label"),
        (CandidateSpec("X", "openai", "gpt-4o", env_key="openai-key"), "env_key"),
        (CandidateSpec("X", "openai", "gpt-4o", env_key="1KEY"), "env_key"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="ftp://example.com"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="example.com/v1"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="http://proxy.internal/v1"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://u:p@proxy.example.com/v1"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://proxy.example.com/v1?key=abc"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://proxy.example.com:99999/v1"), "base_url"),
        (CandidateSpec("X", "openai_compatible", "llama3.1"), "base_url"),  # no default base URL
        (CandidateSpec("X" * 121, "openai", "gpt-4o"), "label"),
        (CandidateSpec("X", "openai", "gpt-4o", notes="n" * 4001), "notes"),
        # Odd input is a card error, never a crash: an unclosed IPv6 bracket makes urlsplit raise,
        # and PostgreSQL refuses NUL in text (a 500 on save instead of an error on the card).
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://[::1/v1"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://proxy.example .com/v1"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://proxy.example.com/\nv1"), "base_url"),
        (CandidateSpec("X", "openai", "gpt-4o", base_url="https://proxy\x00.example.com/v1"), "base_url"),
        (CandidateSpec("X\x00Y", "openai", "gpt-4o"), "label"),
        (CandidateSpec("X\tY", "openai", "gpt-4o"), "label"),
        (CandidateSpec("X", "openai", "gpt-4o\x00"), "model"),
        (CandidateSpec("X", "openai", "gpt-4o", notes="first line\x00"), "notes"),
        (CandidateSpec("X", "openai", "gpt-4o", notes="lone \ud800 surrogate"), "notes"),
    ],
)
def test_validate_chain_reports_the_bad_field_by_card_index(spec, field):
    good = CandidateSpec("Fine", "openrouter", "openai/gpt-4o")
    errors = validate_chain("chat", [good, spec])
    assert list(errors) == [1]
    assert field in errors[1]


def test_odd_characters_are_refused_before_the_database_sees_them():
    before = _rows("chat")
    specs = [
        CandidateSpec("Nul\x00label", "openrouter", "openai/gpt-4o", notes="a\x00b"),
        CandidateSpec("Fine", "openrouter", "openai/gpt-4o", base_url="https://[::1"),
    ]
    with pytest.raises(ChainValidationError) as caught:
        save_chain(kind="chat", specs=specs)
    assert set(caught.value.errors[0]) == {"label", "notes"}
    assert "control characters" in caught.value.errors[0]["label"]
    assert set(caught.value.errors[1]) == {"base_url"}
    assert _rows("chat") == before


def test_notes_may_span_lines_and_a_long_note_up_to_the_cap_is_kept():
    notes = "Why it is here.\r\n\tSecond line.\n" + "x" * (4000 - 32)
    saved = save_chain(kind="chat", specs=[CandidateSpec("Fine", "openrouter", "openai/gpt-4o", notes=notes)])
    assert saved[0].notes == notes.strip()


def test_validate_chain_accepts_http_only_for_openai_compatible():
    ok = [
        CandidateSpec("Ollama", "openai_compatible", "llama3.1", base_url="http://10.0.0.5:11434/v1"),
        CandidateSpec(
            "Proxy",
            "openai",
            "gpt-4o",
            base_url="https://proxy.example.com/v1",
            env_key="PROXY_OPENAI_API_KEY",
        ),
    ]
    assert validate_chain("chat", ok) == {}


def test_validate_chain_rejects_an_unknown_kind():
    with pytest.raises(ValueError):
        validate_chain("video", [])


def test_save_chain_replaces_the_rows_and_records_a_revision(superadmin):
    specs = list(DEFAULT_CHAINS["image"])
    specs[3] = CandidateSpec("OpenAI gpt-image-2", "openai", "gpt-image-2-2026-04-21")
    specs[0], specs[1] = specs[1], specs[0]
    saved = save_chain(kind="image", specs=specs, user=superadmin)
    assert [c.priority for c in saved] == [1, 2, 3, 4]
    assert _rows("image")[0][1] == "KIE Nano Banana Pro"
    assert _rows("image")[3][3] == "gpt-image-2-2026-04-21"
    revision = ChainRevision.objects.filter(kind="image").first()
    assert revision.saved_by == superadmin
    assert revision.candidates[3]["model"] == "gpt-image-2-2026-04-21"
    assert "OpenAI gpt-image-2: model gpt-image-2 → gpt-image-2-2026-04-21" in revision.summary
    assert "moved KIE Nano Banana Pro up to #1" in revision.summary


def test_save_chain_with_errors_writes_nothing():
    before, revisions = _rows("image"), ChainRevision.objects.count()
    bad = [
        CandidateSpec("A", "openai", ""),
        CandidateSpec("B", "nope", "x"),
        CandidateSpec("C", "openai", "gpt-image-2", base_url="not a url"),
    ]
    with pytest.raises(ChainValidationError) as info:
        save_chain(kind="image", specs=bad)
    assert set(info.value.errors) == {0, 1, 2}
    assert (
        info.value.errors[0]["model"]
        and info.value.errors[1]["provider"]
        and info.value.errors[2]["base_url"]
    )
    assert _rows("image") == before
    assert ChainRevision.objects.count() == revisions


@pytest.mark.parametrize("target", ["revision", "bulk_create"])
def test_a_failure_mid_save_changes_nothing(monkeypatch, target):
    before, revisions = _rows("image"), ChainRevision.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    if target == "revision":
        monkeypatch.setattr(ChainRevision.objects, "create", boom)
    else:
        monkeypatch.setattr(ChainCandidate.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        save_chain(kind="image", specs=[CandidateSpec("Only", "openai", "gpt-image-2")])
    assert _rows("image") == before
    assert ChainRevision.objects.count() == revisions


def test_reset_chain_restores_the_defaults(superadmin):
    save_chain(kind="ocr", specs=[CandidateSpec("Only", "mistral", "mistral-ocr-latest", enabled=False)])
    chains.reset_chain("ocr", user=superadmin)
    assert [r[1:4] for r in _rows("ocr")] == [(s.label, s.provider, s.model) for s in DEFAULT_CHAINS["ocr"]]
    revision = ChainRevision.objects.filter(kind="ocr").first()
    assert revision.summary.startswith("Reset to defaults")
    assert revision.saved_by == superadmin


def test_restore_revision_brings_back_an_older_list_as_a_new_revision(superadmin):
    save_chain(kind="embedding", specs=[CandidateSpec("Mistral", "mistral", "mistral-embed")])
    older = ChainRevision.objects.filter(kind="embedding").first()
    save_chain(kind="embedding", specs=[CandidateSpec("OpenAI", "openai", "text-embedding-3-large")])
    chains.restore_revision(revision_id=older.pk, user=superadmin)
    assert [r[1:4] for r in _rows("embedding")] == [("Mistral", "mistral", "mistral-embed")]
    latest = ChainRevision.objects.filter(kind="embedding").first()
    assert latest.pk != older.pk
    assert latest.summary.startswith(f"Restored revision #{older.pk}")


def test_describe_changes_names_adds_removes_and_toggles():
    a = CandidateSpec("A", "openai", "gpt-4o")
    b = CandidateSpec("B", "openrouter", "openai/gpt-4o")
    c = CandidateSpec("C", "deepseek", "deepseek-v4-flash")
    b_off = CandidateSpec("B", "openrouter", "openai/gpt-4o", enabled=False, base_url="https://x.example.com")
    text = describe_changes([a, b], [b_off, c])
    assert "B: disabled, base URL default → https://x.example.com" in text
    assert "added C (deepseek deepseek-v4-flash) at #2" in text
    assert "removed A" in text
    assert describe_changes([a, b], [a, b]) == "no changes"


def test_skip_reason_names_the_missing_key(monkeypatch):
    spec = CandidateSpec("OpenAI", "openai", "gpt-image-2")
    assert chains.skip_reason(spec) == "OPENAI_API_KEY not set"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert chains.skip_reason(spec) == ""
    assert chains.skip_reason(CandidateSpec("OpenAI", "openai", "gpt-image-2", enabled=False)) == "disabled"
    assert chains.skip_reason(CandidateSpec("Sim", "simulated", "ok")) == ""  # names no key at all
    ollama = CandidateSpec("Ollama", "openai_compatible", "llama3.1", env_key="OLLAMA_API_KEY")
    assert chains.skip_reason(ollama) == "OLLAMA_API_KEY not set"


def test_skip_reason_agrees_with_the_saved_rows_is_ready(monkeypatch):
    monkeypatch.setenv("KIE_API_KEY", "k")
    for kind in DEFAULT_CHAINS:
        for row in chains.load_chain(kind):
            assert (chains.skip_reason(CandidateSpec.from_candidate(row)) == "") == row.is_ready


def test_a_hidden_provider_is_refused_with_a_reason(settings):
    settings.SIMULATED_PROVIDER_ENABLED = False
    errors = validate_chain("chat", [CandidateSpec("Sim", "simulated", "ok")])
    assert errors == {0: {"provider": "Simulated is not available on this server."}}
    settings.SIMULATED_PROVIDER_ENABLED = True
    assert validate_chain("chat", [CandidateSpec("Sim", "simulated", "ok")]) == {}


def test_a_save_against_an_older_revision_is_a_conflict_and_writes_nothing(superadmin):
    loaded = chains.latest_revision("ocr")
    save_chain(
        kind="ocr", specs=[CandidateSpec("Colleague's", "mistral", "mistral-ocr-latest")], user=superadmin
    )
    theirs = chains.latest_revision("ocr")
    before, revisions = _rows("ocr"), ChainRevision.objects.count()
    with pytest.raises(chains.ChainConflict) as caught:
        save_chain(
            kind="ocr",
            specs=[CandidateSpec("Mine", "mistral", "mistral-ocr-latest")],
            expected_revision=loaded.pk,
        )
    assert caught.value.latest == theirs
    assert _rows("ocr") == before and ChainRevision.objects.count() == revisions
    save_chain(
        kind="ocr",
        specs=[CandidateSpec("Mine", "mistral", "mistral-ocr-latest")],
        expected_revision=theirs.pk,
    )
    assert [r[1] for r in _rows("ocr")] == ["Mine"]


def test_a_chain_longer_than_the_limit_is_refused_on_the_first_card_past_it():
    from resilience.chains import MAX_CANDIDATES

    specs = [CandidateSpec(f"GPT {i}", "openai", "gpt-4o") for i in range(MAX_CANDIDATES + 1)]
    errors = validate_chain("chat", specs)
    assert list(errors) == [MAX_CANDIDATES]
    assert "at most 50" in errors[MAX_CANDIDATES]["label"]
    assert validate_chain("chat", specs[:MAX_CANDIDATES]) == {}
