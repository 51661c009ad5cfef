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
    assert [a.outcome for a in result.attempts] == [
        "failed",
        "ok",
    ]  # move on first: no retry before the backup


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
            {"label": "Custom", "provider": "openrouter", "model": "m", "env_key": "MY_ROUTER_API_KEY"},
            ("Sim", "simulated", "ok"),
        ],
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert result.attempts[0].message == "MY_ROUTER_API_KEY not set"


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


def test_a_rate_limited_candidate_moves_on_to_the_backup_first(chain, clock):
    chain("chat", [("Busy", "simulated", "rate-limit"), ("Next", "simulated", "ok")])
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert outcomes(result.attempts) == [("Busy", "failed", "rate_limit"), ("Next", "ok", "")]
    assert clock.sleeps == []  # nobody waited on Busy's Retry-After


@pytest.mark.parametrize("model,reason", [("rate-limit", "rate_limit"), ("server-error", "server")])
def test_a_transient_failure_gets_its_second_try_after_the_rest_of_the_chain(chain, clock, model, reason):
    chain("chat", [("Flaky", "simulated", model), ("Gone", "simulated", "gone")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert outcomes(info.value.attempts) == [
        ("Flaky", "failed", reason),
        ("Gone", "failed", "model_not_found"),
        ("Flaky", "failed", reason),
    ]
    assert clock.sleeps == [1.0]  # Retry-After (rate limit) or the back-off (server), then the one retry


def test_a_timeout_is_never_tried_twice_in_one_walk(chain, clock):
    chain("chat", [("Hangs", "simulated", "hang"), ("Gone", "simulated", "gone")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert outcomes(info.value.attempts) == [
        ("Hangs", "failed", "timeout"),
        ("Gone", "failed", "model_not_found"),
    ]


@pytest.mark.parametrize("deadline,second_try", [(60.0, False), (61.5, True)])
def test_a_second_try_needs_its_wait_plus_a_full_attempt_before_the_deadline(
    chain, clock, settings, deadline, second_try
):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "chat": 30.0}
    settings.AI_CHAIN_DEADLINE = {**settings.AI_CHAIN_DEADLINE, "chat": deadline}
    # The hang takes its equal share of the walk: 30 s of 60 (or 61.5) — leaving 30 (31.5) s, and the
    # second try needs 1 s of back-off plus a full 30 s attempt.
    chain("chat", [("Flaky", "simulated", "server-error"), ("Hangs", "simulated", "hang")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    labels = [a.label for a in info.value.attempts]
    assert labels == (["Flaky", "Hangs", "Flaky"] if second_try else ["Flaky", "Hangs"])
    assert clock.t - 1000.0 <= deadline


def test_a_long_retry_after_means_no_second_try(chain, clock, monkeypatch):
    monkeypatch.setattr(cascade, "MAX_RETRY_WAIT", 0.5)  # the simulated Retry-After (1 s) is now "long"
    chain("chat", [("Busy", "simulated", "rate-limit")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert len(info.value.attempts) == 1 and clock.sleeps == []


@pytest.mark.parametrize(
    "kind,request_",
    [
        ("image", AIRequest(prompt="x")),
        ("chat", AIRequest(prompt="x")),
        ("ocr", AIRequest(document=PNG_REF)),
        ("embedding", AIRequest(inputs=("a",))),
    ],
)
def test_with_default_timing_a_hanging_primary_leaves_the_backup_time_to_answer(chain, clock, kind, request_):
    chain(kind, [("Hangs", "simulated", "hang"), ("Healthy", "simulated", "ok")])
    result = cascade.run(kind, request_, venue=None, service="t")
    assert result.answered_by == "Healthy"
    assert clock.t - 1000.0 <= settings_deadline(kind) + 0.5


def settings_deadline(kind):
    from django.conf import settings

    return settings.AI_CHAIN_DEADLINE[kind]


def test_each_try_gets_an_equal_share_of_what_is_left_among_the_ready_candidates(chain, clock, settings):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "chat": 30.0}
    settings.AI_CHAIN_DEADLINE = {**settings.AI_CHAIN_DEADLINE, "chat": 60.0}
    chain(
        "chat",
        [
            hanging("H1"),
            ("No key", "openrouter", "openai/gpt-4o"),  # skipped: not ready, so it gets no share
            hanging("H2"),
            hanging("H3"),
            hanging("H4"),
            ("Healthy", "simulated", "ok"),
        ],
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert result.answered_by == "Healthy"
    assert [a.duration_ms for a in result.attempts if a.outcome == "failed"] == [12_000] * 4  # 60 s / 5
    assert clock.t - 1000.0 == pytest.approx(48.0)


def hanging(label):
    # Four distinct candidates (one provider+model+base URL is tried once): the base URL tells them apart.
    return {"label": label, "provider": "simulated", "model": "hang", "base_url": f"https://{label}.example"}


def test_an_attempt_records_how_long_it_took(chain, clock, settings):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "chat": 7.25}
    chain("chat", [("Hangs", "simulated", "hang"), ("Healthy", "simulated", "ok")])
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert [a.duration_ms for a in result.attempts] == [7250, 0]


def test_the_safety_retry_happens_at_most_once_per_candidate(chain, clock):
    chain("image", [("Strict", "simulated", "sensitive"), ("Gone", "simulated", "gone")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("image", AIRequest(prompt="x", reference_image=PNG_REF), venue=None, service="t")
    assert outcomes(info.value.attempts) == [
        ("Strict", "failed", "safety"),
        ("Strict", "failed", "safety"),  # without the reference image
        ("Gone", "failed", "model_not_found"),
    ]


def test_a_second_try_that_meets_a_safety_refusal_does_not_retry_it_again(chain, clock, monkeypatch):
    """Scripted: server error, then (second try) safety with the reference, then ok without it."""
    from resilience.errors import Reason
    from resilience.providers.base import ProviderError
    from resilience.providers.simulated import SimulatedAdapter
    from resilience.types import AIOutput

    script = iter(["server", "safety", "safety"])
    seen_reference = []

    def call(self, kind, request, **kwargs):
        seen_reference.append(request.has_reference)
        step = next(script, "ok")
        if step == "ok":
            return AIOutput(model="x", text="fine")
        raise ProviderError(Reason(step), step)

    monkeypatch.setattr(SimulatedAdapter, "call", call)
    chain("chat", [("Scripted", "simulated", "ok")])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x", reference_image=PNG_REF), venue=None, service="t")
    assert [a.reason for a in info.value.attempts] == ["server", "safety", "safety"]
    assert seen_reference == [True, True, False]


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
    assert (
        error.technical_detail
        == "menu.importFromPhoto: Gone → model_not_found (404); Keyless → skipped: MISTRAL_API_KEY not set"
    )
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
        result = cascade.run("chat", AIRequest(prompt="x"), venue=venue, service="t")
    # Plus one UPSERT of the attempt aggregates per real try (observe.record), none for skips.
    # (inside the test's transaction each UPSERT runs in a savepoint: not counted here).
    aggregates = [q for q in queries if "observe_attemptbucket" in q["sql"]]
    savepoints = [q for q in queries if "SAVEPOINT" in q["sql"]]
    assert len(queries) - len(aggregates) - len(savepoints) == 1
    assert len(aggregates) == len([a for a in result.attempts if a.outcome != "skipped"])


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
