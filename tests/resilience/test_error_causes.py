"""The operator's copy follows the cause of a failed chain, read from its attempts."""

from __future__ import annotations

import pytest

from alerts.attempts import Attempt
from resilience.cascade import technical_detail
from resilience.errors import USER_MESSAGES, Cause, ChainExhausted, classify


def failed(reason: str, status: int | None = None) -> Attempt:
    return Attempt("Leg", "kie", "m", "failed", reason, status)


def skipped(why: str) -> Attempt:
    return Attempt("Keyless", "deepseek", "m", "skipped", "skipped", message=why)


@pytest.mark.parametrize(
    ("attempts", "cause"),
    [
        ([failed("server", 500)], Cause.OUTAGE),
        ([failed("timeout"), skipped("DEEPSEEK_API_KEY not set")], Cause.OUTAGE),
        ([failed("rate_limit", 429), failed("model_not_found", 404)], Cause.OUTAGE),
        ([skipped("breaker open"), skipped("KIE_API_KEY not set")], Cause.OUTAGE),
        ([skipped("KIE_API_KEY not set"), skipped("OPENAI_API_KEY not set")], Cause.CONFIGURATION),
        ([failed("auth", 401), failed("quota", 402)], Cause.CONFIGURATION),
        ([failed("model_not_found", 404), failed("malformed_response")], Cause.CONFIGURATION),
        ([failed("safety"), failed("model_not_found", 404)], Cause.CONTENT),
        ([failed("safety"), failed("server", 503)], Cause.CONTENT),
        ([failed("bad_request", 400), skipped("MISTRAL_API_KEY not set")], Cause.INPUT),
        ([failed("bad_request", 400), failed("server", 502)], Cause.OUTAGE),
    ],
)
def test_the_cause_is_read_from_the_attempts(attempts, cause):
    assert classify(attempts) == cause


def test_each_cause_gives_advice_that_fits_it():
    outage = ChainExhausted("image", "d", attempts=(failed("server", 500),))
    config = ChainExhausted("chat", "d", attempts=(skipped("OPENROUTER_API_KEY not set"),))
    content = ChainExhausted("chat", "d", attempts=(failed("safety"),))
    photo = ChainExhausted("ocr", "d", attempts=(failed("bad_request", 400),))

    assert "Try again in a minute" in outage.user_message and "style" not in outage.user_message
    assert "nothing to change on your side" in config.user_message and "rephras" not in config.user_message
    assert "Try rephrasing" in content.user_message and "minute" not in content.user_message
    assert "clearer, well-lit photo" in photo.user_message
    assert (outage.cause, config.cause, content.cause, photo.cause) == (
        Cause.OUTAGE,
        Cause.CONFIGURATION,
        Cause.CONTENT,
        Cause.INPUT,
    )


def test_embedding_copy_says_word_matches_whatever_the_cause():
    error = ChainExhausted("embedding", "d", attempts=(failed("server", 500),))
    assert error.user_message == USER_MESSAGES["embedding"]


def test_the_technical_details_name_each_skips_reason():
    detail = technical_detail(
        "social.writeCaption",
        [failed("server", 500), skipped("DEEPSEEK_API_KEY not set"), skipped("breaker open")],
    )
    assert detail == (
        "social.writeCaption: Leg → server (500); Keyless → skipped: DEEPSEEK_API_KEY not set; "
        "Keyless → skipped: breaker open"
    )
