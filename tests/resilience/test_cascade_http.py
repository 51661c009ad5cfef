"""The cascade against mocked provider HTTP: the seed's worked example, the safety retry, retries with
Retry-After, the deadline, base URLs and redaction."""

from __future__ import annotations

import dataclasses
import json

import pytest
from responses import matchers

from alerts.models import Alert
from resilience import cascade
from resilience.chains import load_specs, save_chain
from resilience.errors import ChainExhausted
from resilience.primaries import set_primary
from resilience.types import AIRequest

from .helpers import PNG, PNG_B64, SECRET, png, sent_json
from .test_kie import CREATE, CREATED, POLL, RESULT, SUCCESS, UPLOAD, record
from .test_providers import OPENAI, chat_completion, openai_error

SENSITIVE = record(
    "fail",
    failCode="422",
    failMsg="The input or output was flagged as sensitive. Please try again with different inputs.",
)
GONE = openai_error(
    "The model `dall-e-3` does not exist or you do not have access to it.",
    "invalid_request_error",
    "model_not_found",
)
IMAGE_OK = {"created": 1, "data": [{"b64_json": PNG_B64}]}


@pytest.fixture
def keys(monkeypatch):
    for name in ("KIE_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.setenv(name, SECRET)


def test_the_seed_worked_example_exhausts_then_an_edited_chain_answers(
    venue, chain, keys, mocked, exhaustions
):
    rows = chain(
        "image",
        [("KIE Nano Banana", "kie", "google/nano-banana"), ("OpenAI last-ditch", "openai", "dall-e-3")],
    )
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SENSITIVE)
    mocked.post(
        f"{OPENAI}/images/generations",
        json=GONE,
        status=404,
        match=[matchers.json_params_matcher({"model": "dall-e-3"}, strict_match=False)],
    )
    request = AIRequest(prompt="meat pasta with basil")

    with pytest.raises(ChainExhausted) as info:
        cascade.run("image", request, venue=venue, service="social.generateImage", request_id="r-1")

    error = info.value
    assert (
        error.user_message
        == "We couldn't generate your image right now. Try rephrasing the description, or pick a different style."
    )
    assert error.technical_detail == (
        "social.generateImage: KIE Nano Banana → safety; OpenAI last-ditch → model_not_found (404)"
    )
    assert [(a.outcome, a.reason) for a in error.attempts] == [
        ("failed", "safety"),
        ("failed", "model_not_found"),
    ]
    assert "sensitive" in error.attempts[0].message and "does not exist" in error.attempts[1].message
    assert len(exhaustions) == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.service, alert.venue_id, alert.request_id) == (
        "image",
        "social.generateImage",
        venue.id,
        "r-1",
    )
    assert alert.attempts.count() == 2

    # The super admin swaps dall-e-3 for a live model (the AI Fallbacks page's save, the same service
    # function); the very next Generate succeeds, no deploy.
    specs = load_specs("image")
    assert [s.model for s in specs] == [rows[0].model, "dall-e-3"]
    save_chain(kind="image", specs=[specs[0], dataclasses.replace(specs[1], model="gpt-image-2")])
    mocked.post(
        f"{OPENAI}/images/generations",
        json=IMAGE_OK,
        match=[matchers.json_params_matcher({"model": "gpt-image-2"}, strict_match=False)],
    )
    result = cascade.run("image", request, venue=venue, service="social.generateImage")
    assert result.output.image == PNG
    assert result.answered_by == "OpenAI last-ditch"
    assert [a.outcome for a in result.attempts] == ["failed", "ok"]
    assert Alert.objects.count() == 1 and len(exhaustions) == 1


def test_a_kie_safety_refusal_with_a_reference_is_retried_text_only(chain, keys, mocked):
    chain("image", [("KIE Nano Banana 2", "kie", "nano-banana-2")])
    mocked.post(
        UPLOAD, json={"success": True, "code": 200, "data": {"downloadUrl": "https://t.example/ref.png"}}
    )
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SENSITIVE)
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG)
    request = AIRequest(prompt="our carbonara", reference_image=png("blue"), reference_mime="image/png")

    result = cascade.run("image", request, venue=None, service="social.generateImage")

    assert [(a.outcome, a.reason) for a in result.attempts] == [("failed", "safety"), ("ok", "")]
    creates = [c for c in mocked.calls if c.request.url == CREATE]
    assert sent_json(creates[0])["input"]["image_input"] == ["https://t.example/ref.png"]
    assert "image_input" not in sent_json(creates[1])["input"]  # the second request carries no image
    assert sum(1 for c in mocked.calls if c.request.url == UPLOAD) == 1


def test_an_openai_safety_refusal_on_an_edit_is_retried_as_a_plain_generation(chain, keys, mocked):
    chain("image", [("OpenAI", "openai", "gpt-image-2")])
    mocked.post(
        f"{OPENAI}/images/edits",
        status=400,
        json=openai_error(
            "Your request was rejected by the safety system.",
            "image_generation_user_error",
            "moderation_blocked",
        ),
    )
    mocked.post(f"{OPENAI}/images/generations", json=IMAGE_OK)
    result = cascade.run("image", AIRequest(prompt="x", reference_image=PNG), venue=None, service="t")
    assert result.output.image == PNG
    second = mocked.calls[1].request
    assert json.loads(second.body) == {"model": "gpt-image-2", "prompt": "x", "size": "1024x1024", "n": 1}


def test_the_edit_model_is_skipped_without_a_reference(chain, keys, mocked):
    chain("image", [("KIE Nano Banana Edit", "kie", "google/nano-banana-edit"), ("Sim", "simulated", "ok")])
    result = cascade.run("image", AIRequest(prompt="x"), venue=None, service="t")
    assert (result.attempts[0].outcome, result.attempts[0].message) == ("skipped", "needs a reference image")
    assert len(mocked.calls) == 0


def test_a_rate_limit_waits_for_retry_after_then_retries_once(chain, keys, mocked, clock):
    chain("chat", [("GPT", "openai", "gpt-4o")])
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=429,
        headers={"retry-after": "3"},
        json=openai_error("Rate limit reached", "requests", "rate_limit_exceeded"),
    )
    mocked.post(f"{OPENAI}/chat/completions", json=chat_completion("Done"))
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert result.output.text == "Done"
    assert clock.sleeps == [3.0]
    assert [(a.outcome, a.status_code) for a in result.attempts] == [("failed", 429), ("ok", None)]


def test_a_retry_after_given_as_an_http_date_is_honoured(chain, keys, mocked, clock):
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    chain("chat", [("GPT", "openai", "gpt-4o")])
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=6), usegmt=True)
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=503,
        headers={"Retry-After": later},
        json=openai_error("The engine is currently overloaded", "server_error", None),
    )
    mocked.post(f"{OPENAI}/chat/completions", json=chat_completion("Done"))
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert result.output.text == "Done"
    assert len(clock.sleeps) == 1 and 4.0 <= clock.sleeps[0] <= 6.0  # the date has whole seconds


def test_a_long_retry_after_moves_on_instead_of_waiting(chain, keys, mocked, clock):
    chain("chat", [("GPT", "openai", "gpt-4o"), ("Sim", "simulated", "ok")])
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=429,
        headers={"retry-after": "120"},
        json=openai_error("Rate limit reached", "requests", "rate_limit_exceeded"),
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert result.answered_by == "Sim" and clock.sleeps == []
    assert len(mocked.calls) == 1


def test_a_server_error_moves_on_to_the_backup_before_any_retry(chain, keys, mocked, clock):
    chain("chat", [("GPT", "openai", "gpt-4o"), ("Sim", "simulated", "ok")])
    mocked.post(f"{OPENAI}/chat/completions", status=500, json=openai_error("boom", "server_error", None))
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert len(mocked.calls) == 1 and result.answered_by == "Sim"


def test_server_errors_are_retried_at_most_once_when_the_chain_has_nothing_else(
    chain, keys, mocked, clock, exhaustions
):
    chain("chat", [("GPT", "openai", "gpt-4o")])
    mocked.post(f"{OPENAI}/chat/completions", status=500, json=openai_error("boom", "server_error", None))
    with pytest.raises(ChainExhausted):
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert len(mocked.calls) == 2


def test_exhausted_quota_is_not_retried(chain, keys, mocked, clock):
    chain("chat", [("GPT", "openai", "gpt-4o"), ("Sim", "simulated", "ok")])
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=429,
        json=openai_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert len(mocked.calls) == 1 and result.attempts[0].reason == "quota" and clock.sleeps == []


def test_a_stuck_kie_queue_does_not_starve_the_backup(chain, keys, mocked, clock, settings):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "image": 60.0}
    settings.AI_CHAIN_DEADLINE = {**settings.AI_CHAIN_DEADLINE, "image": 90.0}
    chain(
        "image",
        [
            ("KIE 2", "kie", "nano-banana-2"),
            ("KIE Pro", "kie", "nano-banana-pro"),
            ("Sim", "simulated", "ok"),
        ],
    )
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=record("generating"))
    result = cascade.run("image", AIRequest(prompt="x"), venue=None, service="social.generateImage")
    assert result.answered_by == "Sim"
    kie_tries = result.attempts[:2]
    # 90 s among three ready candidates: 30 s each, so the backup still had its full share.
    assert [(a.reason, a.duration_ms) for a in kie_tries] == [("timeout", 30_000), ("timeout", 30_000)]
    # One task per KIE candidate, and the audit names each task left running (KIE may still bill it).
    assert sum(1 for call in mocked.calls if call.request.url == CREATE) == 2
    assert all("task task_nano-banana-2_1765178625768 left unfinished" in a.message for a in kie_tries)
    assert clock.t - 1000.0 <= 90.0


def test_a_kie_task_that_never_finishes_is_created_once_and_resumed_on_the_second_try(
    chain, keys, mocked, clock, exhaustions
):
    chain("image", [("KIE 2", "kie", "nano-banana-2")])
    mocked.post(CREATE, json=CREATED)
    # Polls keep failing with 500s: the first try gives up on the task (server), the second try
    # (after the rest of the chain — here nothing) polls the same task again instead of paying for a new one.
    mocked.get(POLL, status=500, json={"code": 500, "msg": "Server Error"})
    with pytest.raises(ChainExhausted) as info:
        cascade.run("image", AIRequest(prompt="x"), venue=None, service="social.generateImage")
    assert [a.reason for a in info.value.attempts] == ["server", "server"]
    assert sum(1 for call in mocked.calls if call.request.url == CREATE) == 1
    assert sum(1 for call in mocked.calls if call.request.url.startswith(POLL)) == 6


def test_a_primary_uses_its_providers_default_base_url_from_the_environment(
    venue, chain, keys, mocked, settings
):
    settings.AI_PROVIDER_BASE_URLS = {
        **settings.AI_PROVIDER_BASE_URLS,
        "openai": "https://gateway.example/v1",
    }
    chain("chat", [])
    set_primary(venue=venue, kind="chat", provider="openai", model="gpt-4o")
    mocked.post("https://gateway.example/v1/chat/completions", json=chat_completion("Via gateway"))
    assert cascade.run("chat", AIRequest(prompt="x"), venue=venue, service="t").output.text == "Via gateway"


def test_the_same_model_on_another_base_url_is_a_different_candidate(chain, keys, mocked):
    chain(
        "chat",
        [
            ("Hosted", "openai", "gpt-4o"),
            {
                "label": "Proxy",
                "provider": "openai",
                "model": "gpt-4o",
                "base_url": "https://proxy.example/v1",
            },
        ],
    )
    mocked.post(f"{OPENAI}/chat/completions", status=404, json=GONE)
    mocked.post("https://proxy.example/v1/chat/completions", json=chat_completion("Proxy answer"))
    assert cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t").answered_by == "Proxy"


def test_no_secret_or_url_reaches_the_audit_or_the_detail(chain, keys, mocked, exhaustions):
    chain("chat", [("GPT", "openai", "gpt-4o")])
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=401,
        json=openai_error(
            f"Incorrect API key provided: {SECRET}. You can find your API key at "
            "https://platform.openai.com/account/api-keys?token=abc.",
            "invalid_request_error",
            "invalid_api_key",
        ),
    )
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="social.writeCaption")
    texts = [info.value.technical_detail, str(info.value)] + [a.message for a in info.value.attempts]
    texts += [row.message for row in Alert.objects.get().attempts.all()] + [Alert.objects.get().last_error]
    for text in texts:
        assert SECRET not in text and "sk-" not in text and "https://" not in text and "token=" not in text
    assert info.value.technical_detail == "social.writeCaption: GPT → auth (401)"


def test_a_key_pasted_with_a_trailing_newline_still_works(chain, mocked, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", f"{SECRET}\n")
    chain("chat", [("GPT", "openai", "gpt-4o")])
    mocked.post(
        f"{OPENAI}/chat/completions",
        json=chat_completion("Fine"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {SECRET}"})],
    )
    assert cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t").output.text == "Fine"


def test_a_primary_that_is_also_a_chain_row_uses_that_rows_env_key(venue, chain, mocked, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_PROD_API_KEY", SECRET)
    chain(
        "chat",
        [
            {
                "label": "GPT (prod account)",
                "provider": "openai",
                "model": "gpt-4o",
                "env_key": "OPENAI_PROD_API_KEY",
            }
        ],
    )
    set_primary(venue=venue, kind="chat", provider="openai", model="gpt-4o")
    mocked.post(
        f"{OPENAI}/chat/completions",
        json=chat_completion("Answered"),
        match=[matchers.header_matcher({"Authorization": f"Bearer {SECRET}"})],
    )
    result = cascade.run("chat", AIRequest(prompt="x"), venue=venue, service="t")
    assert result.output.text == "Answered"
    assert [(a.label, a.outcome) for a in result.attempts] == [("Venue primary: OpenAI gpt-4o", "ok")]


def test_a_bad_request_moves_on_and_is_logged_as_our_bug(chain, keys, mocked, caplog):
    import logging

    chain("chat", [("GPT", "openai", "gpt-4o"), ("Sim", "simulated", "ok")])
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=400,
        json=openai_error(f"Invalid value for 'max_tokens' (key {SECRET}).", "invalid_request_error", None),
    )
    with caplog.at_level(logging.INFO, logger="resilience.cascade"):
        result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="social.writeCaption")
    assert result.answered_by == "Sim" and len(mocked.calls) == 1  # not retried
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "GPT → bad_request (400)" in warnings[0] and "bug" in warnings[0]
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_two_spellings_of_one_endpoint_are_one_candidate(chain, keys, mocked):
    chain(
        "chat",
        [
            ("Hosted", "openai", "gpt-4o"),
            {
                "label": "Same, shouted",
                "provider": "openai",
                "model": "gpt-4o",
                "base_url": "https://API.OpenAI.com/v1/",
            },
            ("Sim", "simulated", "ok"),
        ],
    )
    mocked.post(f"{OPENAI}/chat/completions", status=404, json=GONE)
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert [a.label for a in result.attempts] == ["Hosted", "Sim"]


def _gif() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "GIF")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "image,max_bytes,problem",
    [
        (_gif(), None, "not PNG, JPEG or WebP (image/gif)"),
        (PNG[:40] + b"\x00" * 40, None, "damaged"),
        (PNG, 64, "over"),
    ],
)
def test_an_image_the_library_cannot_keep_is_a_failed_leg_not_a_success(
    chain, keys, mocked, settings, image, max_bytes, problem
):
    import base64

    if max_bytes:
        settings.MAX_IMAGE_BYTES = max_bytes
    chain("image", [("OpenAI", "openai", "gpt-image-2"), ("KIE", "kie", "nano-banana-2")])
    mocked.post(
        f"{OPENAI}/images/generations",
        json={"created": 1, "data": [{"b64_json": base64.b64encode(image).decode()}]},
    )
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=png("green") if not max_bytes else b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    if max_bytes:
        with pytest.raises(ChainExhausted) as info:  # both answers are over the limit: the chain alerts
            cascade.run("image", AIRequest(prompt="x"), venue=None, service="social.generateImage")
        attempts = info.value.attempts
        assert Alert.objects.count() == 1
    else:
        result = cascade.run("image", AIRequest(prompt="x"), venue=None, service="social.generateImage")
        assert result.answered_by == "KIE" and result.output.image == png("green")
        attempts = result.attempts
    assert (attempts[0].outcome, attempts[0].reason) == ("failed", "malformed_response")
    assert problem in attempts[0].message
