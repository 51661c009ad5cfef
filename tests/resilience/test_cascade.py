"""The cascade's walk, end to end through the simulated provider (no network)."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from alerts.models import Alert
from resilience import cascade
from resilience.errors import ChainExhausted
from resilience.primaries import set_primary
from resilience.types import AIRequest

PNG_REF = (
    lambda: (lambda b: (Image.new("RGB", (8, 8), "red").save(b, "PNG"), b.getvalue())[1])(io.BytesIO())
)()


def outcomes(attempts):
    return [(a.label, a.outcome, a.reason) for a in attempts]


def test_the_first_healthy_candidate_answers_with_a_real_png(chain):
    chain("image", [("Broken", "simulated", "server-error"), ("Good", "simulated", "ok")])
    result = cascade.run("image", AIRequest(prompt="a red fox"), venue=None, service="social.generateImage")
    assert result.answered_by == "Good"
    assert Image.open(io.BytesIO(result.output.image)).format == "PNG"
    assert [a.outcome for a in result.attempts] == ["failed", "failed", "ok"]  # server error retried once


def test_the_venue_primary_is_tried_before_the_chain(venue, chain):
    chain("chat", [("Chain leg", "simulated", "ok")])
    set_primary(venue=venue, kind="chat", provider="simulated", model="sensitive")
    result = cascade.run("chat", AIRequest(prompt="pasta"), venue=venue, service="social.writeCaption")
    assert outcomes(result.attempts) == [
        ("Venue primary: Simulated sensitive", "failed", "safety"),
        ("Chain leg", "ok", ""),
    ]
    assert "pasta" in result.output.text


def test_the_same_provider_model_and_base_is_never_tried_twice(venue, chain):
    set_primary(venue=venue, kind="chat", provider="simulated", model="gone")
    chain(
        "chat",
        [
            ("Same as primary", "simulated", "gone"),
            ("Again", "simulated", "gone"),
            ("Other", "simulated", "ok"),
        ],
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=venue, service="t")
    assert [a.label for a in result.attempts] == ["Venue primary: Simulated gone", "Other"]


def test_disabled_candidates_are_not_tried(chain):
    chain(
        "chat",
        [
            {"label": "Off", "provider": "simulated", "model": "ok", "enabled": False},
            ("On", "simulated", "ok"),
        ],
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert [a.label for a in result.attempts] == ["On"]


def test_a_candidate_without_its_key_is_skipped_and_named(chain, mocked):
    chain("chat", [("GPT via OpenRouter", "openrouter", "openai/gpt-4o"), ("Sim", "simulated", "ok")])
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    skipped = result.attempts[0]
    assert (skipped.outcome, skipped.reason, skipped.message) == (
        "skipped",
        "skipped",
        "OPENROUTER_API_KEY not set",
    )
    assert len(mocked.calls) == 0


def test_a_custom_env_key_is_honoured(chain, monkeypatch):
    chain(
        "chat",
        [
            {"label": "Custom", "provider": "openrouter", "model": "m", "env_key": "MY_ROUTER_KEY"},
            ("Sim", "simulated", "ok"),
        ],
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert result.attempts[0].message == "MY_ROUTER_KEY not set"


def test_safety_with_a_reference_retries_once_without_it(chain):
    chain("image", [("Sim", "simulated", "sensitive-with-reference")])
    request = AIRequest(prompt="meat pasta", reference_image=PNG_REF, reference_mime="image/png")
    result = cascade.run("image", request, venue=None, service="social.generateImage")
    assert outcomes(result.attempts) == [("Sim", "failed", "safety"), ("Sim", "ok", "")]


def test_safety_without_a_reference_moves_on(chain):
    chain("image", [("Strict", "simulated", "sensitive"), ("Next", "simulated", "ok")])
    result = cascade.run("image", AIRequest(prompt="x"), venue=None, service="t")
    assert outcomes(result.attempts) == [("Strict", "failed", "safety"), ("Next", "ok", "")]


@pytest.mark.parametrize("model,reason", [("gone", "model_not_found"), ("empty", "malformed_response")])
def test_permanent_failures_are_not_retried(chain, model, reason):
    chain("embedding", [("Bad", "simulated", model), ("Good", "simulated", "ok")])
    result = cascade.run("embedding", AIRequest(inputs=("a",)), venue=None, service="t")
    assert outcomes(result.attempts)[0] == ("Bad", "failed", reason)
    assert len(result.attempts) == 2


def test_a_rate_limit_is_retried_once_after_retry_after(chain, clock):
    chain("chat", [("Busy", "simulated", "rate-limit"), ("Next", "simulated", "ok")])
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert outcomes(result.attempts) == [
        ("Busy", "failed", "rate_limit"),
        ("Busy", "failed", "rate_limit"),
        ("Next", "ok", ""),
    ]
    assert clock.sleeps == [1.0]


def test_exhaustion_records_an_alert_and_raises_a_calm_error(venue, chain, exhaustions):
    chain("ocr", [("Gone", "simulated", "gone"), ("Keyless", "mistral", "mistral-ocr-latest")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run(
            "ocr",
            AIRequest(document=PNG_REF),
            venue=venue,
            service="menu.importFromPhoto",
            request_id="req-1",
        )
    error = info.value
    assert error.http_status == 503 and error.code == "ai_unavailable"
    assert error.user_message.startswith("We couldn't read that menu")
    assert error.technical_detail == "menu.importFromPhoto: Gone → model_not_found (404); Keyless → skipped"
    assert error.request_id == "req-1"
    assert len(exhaustions) == 1 and exhaustions[0]["request_id"] == "req-1"
    alert = Alert.objects.get()
    assert (alert.kind, alert.service, alert.venue) == ("ocr", "menu.importFromPhoto", venue)
    assert [a.reason for a in alert.attempts.order_by("position")] == ["model_not_found", "skipped"]


def test_an_empty_chain_still_alerts(chain, exhaustions):
    chain("chat", [])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert "no enabled candidates" in info.value.attempts[0].message
    assert len(exhaustions) == 1


def test_a_broken_alert_store_does_not_change_the_users_error(chain, monkeypatch):
    import alerts.record

    def broken(**kwargs):
        raise RuntimeError("db down")

    monkeypatch.setattr(alerts.record, "record_exhaustion", broken)
    chain("chat", [("Gone", "simulated", "gone")])
    with pytest.raises(ChainExhausted):
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")


def test_the_cascade_loads_primary_and_chain_in_one_query(venue, chain):
    set_primary(venue=venue, kind="chat", provider="simulated", model="gone")
    chain("chat", [("A", "simulated", "server-error"), ("B", "simulated", "ok")])
    with CaptureQueriesContext(connection) as queries:
        cascade.run("chat", AIRequest(prompt="x"), venue=venue, service="t")
    assert len(queries) == 1


def test_simulated_is_skipped_when_disabled(chain, settings, exhaustions):
    settings.SIMULATED_PROVIDER_ENABLED = False
    chain("chat", [("Sim", "simulated", "ok")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert info.value.attempts[0].message == "simulated provider disabled"


def test_similar_texts_get_similar_simulated_vectors(chain):
    chain("embedding", [("Sim", "simulated", "ok")])
    result = cascade.run(
        "embedding",
        AIRequest(inputs=("spicy tomato soup", "tomato soup", "lemon tart")),
        venue=None,
        service="api.embeddings",
    )
    soup, soup2, tart = result.output.vectors
    cos = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731 (unit vectors)
    assert len(soup) == 256
    assert cos(soup, soup2) > 0.7 > cos(soup, tart)


def test_skipping_matches_the_admins_ready_badge(chain, monkeypatch, mocked):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-set")
    rows = chain(
        "chat",
        [
            ("Keyed, set", "openai", "gpt-4o"),
            ("Keyed, unset", "anthropic", "claude-sonnet-4-6"),
            {
                "label": "Local, no key",
                "provider": "openai_compatible",
                "model": "llama3.1",
                "base_url": "http://llm.internal/v1",
            },
            {
                "label": "Local, named key unset",
                "provider": "openai_compatible",
                "model": "llama3.1",
                "base_url": "http://other.internal/v1",
                "env_key": "VLLM_API_KEY",
            },
        ],
    )
    for url in ("https://api.openai.com/v1/chat/completions", "http://llm.internal/v1/chat/completions"):
        mocked.post(
            url, status=500, json={"error": {"message": "down", "type": "server_error", "code": None}}
        )
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    tried = {a.label for a in info.value.attempts if a.outcome != "skipped"}
    assert tried == {row.label for row in rows if row.is_ready}
    assert "Authorization" not in mocked.calls[-1].request.headers  # the local server got no key
