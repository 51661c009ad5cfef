"""OpenAI, OpenRouter, Anthropic, DeepSeek, Mistral and OpenAI-compatible adapters: request shapes,
success parsing and every non-KIE row of PROVIDERS.md §8 (bodies copied from there)."""

from __future__ import annotations

import base64

import pytest
import requests
from responses import matchers

from resilience.errors import Reason
from resilience.providers.base import ProviderError
from resilience.types import AIRequest

from .helpers import PNG, PNG_B64, SECRET, call, png, sent_json

OPENAI = "https://api.openai.com/v1"
ROUTER = "https://openrouter.ai/api/v1"
ANTHROPIC = "https://api.anthropic.com/v1/messages"
DEEPSEEK = "https://api.deepseek.com/chat/completions"
MISTRAL = "https://api.mistral.ai/v1"

CHAT = AIRequest(prompt="Write a caption for our lasagne", system="Warm and playful")
OCR = AIRequest(document=PNG, document_mime="image/png")
EMBED = AIRequest(inputs=("tomato soup", "lemon tart"))


def openai_error(message, type_, code, **extra):
    return {"error": {"message": message, "type": type_, "param": None, "code": code, **extra}}


def router_error(code, message, **metadata):
    error = {"code": code, "message": message}
    if metadata:
        error["metadata"] = metadata
    return {"error": error, "user_id": "user_123"}


def anthropic_error(type_, message, **extra):
    return {"type": "error", "error": {"type": type_, "message": message, **extra}, "request_id": "req_011C"}


def chat_completion(content="A caption", finish_reason="stop", **message):
    return {
        "id": "c1",
        "object": "chat.completion",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": finish_reason,
            }
        ],
    }


def embeddings(*vectors):
    return {
        "object": "list",
        "model": "m",
        "usage": {"prompt_tokens": 5, "total_tokens": 5},
        "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
    }


def fails(provider, kind, request, **kwargs) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        call(provider, kind, request, **kwargs)
    assert SECRET not in info.value.short
    return info.value


# --- Every row of §8, one mocked response each ---------------------------------------------------

ROWS = [
    # OpenAI images
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        400,
        openai_error(
            "Your request was rejected by the safety system. If you believe this is an error, contact us at "
            "help.openai.com and include the request ID req_1. safety_violations=[sexual].",
            "image_generation_user_error",
            "moderation_blocked",
            moderation_details={"moderation_stage": "output", "categories": ["sexual"]},
        ),
        Reason.SAFETY,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        400,
        openai_error(
            "Your request was rejected as a result of our safety system. Your prompt may contain text that is not "
            "allowed by our safety system.",
            "invalid_request_error",
            "content_policy_violation",
        ),
        Reason.SAFETY,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        404,
        openai_error(
            "The model `dall-e-3` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        ),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        400,
        openai_error("The model `dall-e-3` has been deprecated.", "invalid_request_error", "model_not_found"),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        429,
        openai_error(
            "Rate limit reached for gpt-image-2 in organization org-abc on requests per min (RPM): Limit 3, Used 3, "
            "Requested 1. Please try again in 20s.",
            "requests",
            "rate_limit_exceeded",
        ),
        Reason.RATE_LIMIT,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        429,
        openai_error(
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        Reason.QUOTA,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        401,
        openai_error(
            f"Incorrect API key provided: {SECRET}. You can find your API key at https://platform.openai.com/account.",
            "invalid_request_error",
            "invalid_api_key",
        ),
        Reason.AUTH,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        403,
        openai_error(
            "Country, region, or territory not supported",
            "request_forbidden",
            "unsupported_country_region_territory",
        ),
        Reason.AUTH,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        400,
        openai_error("Invalid value for 'size'.", "invalid_request_error", None),
        Reason.BAD_REQUEST,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        500,
        openai_error("The server had an error while processing your request.", "server_error", None),
        Reason.SERVER,
    ),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        503,
        openai_error("The engine is currently overloaded, please try again later", "server_error", None),
        Reason.SERVER,
    ),
    ("openai", "image", f"{OPENAI}/images/generations", 502, "<html>Bad gateway</html>", Reason.SERVER),
    # OpenAI chat
    (
        "openai",
        "chat",
        f"{OPENAI}/chat/completions",
        200,
        chat_completion(None, "content_filter"),
        Reason.SAFETY,
    ),
    (
        "openai",
        "chat",
        f"{OPENAI}/chat/completions",
        200,
        chat_completion(None, refusal="I can't help with that."),
        Reason.SAFETY,
    ),
    ("openai", "embedding", f"{OPENAI}/embeddings", 200, embeddings([0.1, 0.2]), Reason.MALFORMED_RESPONSE),
    (
        "openai",
        "embedding",
        f"{OPENAI}/embeddings",
        200,
        embeddings([0.1, 0.2], [0.3]),
        Reason.MALFORMED_RESPONSE,
    ),
    # OpenRouter
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        403,
        router_error(
            403,
            'openai/gpt-5 requires moderation on OpenRouter. Your input was flagged for "violence".',
            reasons=["violence"],
            flagged_input="...",
            provider_name="OpenAI",
            model_slug="openai/gpt-5",
        ),
        Reason.SAFETY,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        200,
        chat_completion(None, "content_filter"),
        Reason.SAFETY,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        429,
        router_error(
            429,
            "Provider returned error",
            raw="qwen/qwen3-coder:free is temporarily rate-limited upstream. Please retry shortly...",
            provider_name="Venice",
            is_byok=False,
        ),
        Reason.RATE_LIMIT,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        402,
        router_error(
            402,
            "This request requires more credits, or fewer max_tokens. You requested up to 16384 tokens, but can "
            "only afford 3324.",
            limit_source="openrouter_credits",
        ),
        Reason.QUOTA,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        403,
        router_error(
            403, "Key limit exceeded (daily limit). Manage it using https://openrouter.ai/settings/keys"
        ),
        Reason.QUOTA,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        400,
        router_error(400, "foo/bar is not a valid model ID"),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        404,
        router_error(404, "No endpoints found for deepseek/deepseek-v4.1-flash."),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        401,
        router_error(401, "No auth credentials found"),
        Reason.AUTH,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        408,
        router_error(408, "Request timed out"),
        Reason.TIMEOUT,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        502,
        router_error(502, "Provider returned error", provider_name="Together", raw=None),
        Reason.SERVER,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        503,
        router_error(503, "No available provider meets your routing requirements"),
        Reason.SERVER,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        200,
        router_error(502, "Provider returned error", provider_name="X"),
        Reason.SERVER,
    ),  # error after generation started
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        200,
        chat_completion("partial", "error"),
        Reason.SERVER,
    ),
    (
        "openrouter",
        "image",
        f"{ROUTER}/chat/completions",
        200,
        chat_completion("Here you go", images=[]),
        Reason.MALFORMED_RESPONSE,
    ),
    # Anthropic
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        200,
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": "partial"}],
            "stop_reason": "refusal",
            "stop_sequence": None,
            "stop_details": {"type": "refusal", "category": "general_harms", "explanation": None},
        },
        Reason.SAFETY,
    ),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        429,
        anthropic_error("rate_limit_error", "Number of requests has exceeded your rate limit"),
        Reason.RATE_LIMIT,
    ),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        429,
        anthropic_error(
            "rate_limit_error", "Spend limit reached", details={"error_code": "enforced_spend_limit_reached"}
        ),
        Reason.QUOTA,
    ),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        402,
        anthropic_error("billing_error", "Your credit balance is too low"),
        Reason.QUOTA,
    ),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        404,
        anthropic_error("not_found_error", "model: claude-3-5-sonnet-20241022"),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        401,
        anthropic_error("authentication_error", "invalid x-api-key"),
        Reason.AUTH,
    ),
    ("anthropic", "chat", ANTHROPIC, 403, anthropic_error("permission_error", "no access"), Reason.AUTH),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        400,
        anthropic_error("invalid_request_error", "max_tokens: Field required"),
        Reason.BAD_REQUEST,
    ),
    ("anthropic", "chat", ANTHROPIC, 413, "<html>413 Request Entity Too Large</html>", Reason.BAD_REQUEST),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        500,
        anthropic_error("api_error", "Internal server error"),
        Reason.SERVER,
    ),
    ("anthropic", "chat", ANTHROPIC, 529, anthropic_error("overloaded_error", "Overloaded"), Reason.SERVER),
    ("anthropic", "chat", ANTHROPIC, 503, "service unavailable", Reason.SERVER),
    (
        "anthropic",
        "chat",
        ANTHROPIC,
        504,
        anthropic_error("timeout_error", "Request timed out"),
        Reason.TIMEOUT,
    ),
    (
        "anthropic",
        "ocr",
        ANTHROPIC,
        200,
        {"id": "msg_1", "type": "message", "content": [], "stop_reason": "end_turn"},
        Reason.MALFORMED_RESPONSE,
    ),
    # DeepSeek
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        400,
        openai_error("Content Exists Risk", "invalid_request_error", "invalid_request_error"),
        Reason.SAFETY,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        402,
        openai_error("Insufficient Balance", "unknown_error", "invalid_request_error"),
        Reason.QUOTA,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        429,
        openai_error("Rate Limit Reached", "rate_limit_error", None),
        Reason.RATE_LIMIT,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        400,
        openai_error("Model Not Exist", "invalid_request_error", "invalid_request_error"),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        404,
        openai_error("Not Found", "invalid_request_error", None),
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        401,
        openai_error(
            "Authentication Fails, Your api key is invalid", "authentication_error", "invalid_request_error"
        ),
        Reason.AUTH,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        422,
        openai_error("Invalid Parameters", "invalid_request_error", None),
        Reason.BAD_REQUEST,
    ),
    ("deepseek", "chat", DEEPSEEK, 500, openai_error("Server Error", "api_error", None), Reason.SERVER),
    ("deepseek", "chat", DEEPSEEK, 503, openai_error("Server Overloaded", "api_error", None), Reason.SERVER),
    # Mistral
    ("mistral", "ocr", f"{MISTRAL}/ocr", 401, {"detail": "Unauthorized"}, Reason.AUTH),
    ("mistral", "ocr", f"{MISTRAL}/ocr", 429, {"message": "Requests rate limit exceeded"}, Reason.RATE_LIMIT),
    (
        "mistral",
        "embedding",
        f"{MISTRAL}/embeddings",
        429,
        {
            "object": "error",
            "message": "Rate limit exceeded",
            "type": "rate_limited",
            "param": None,
            "code": "1300",
            "raw_status_code": 429,
        },
        Reason.RATE_LIMIT,
    ),
    (
        "mistral",
        "ocr",
        f"{MISTRAL}/ocr",
        400,
        {
            "object": "error",
            "message": "Invalid model: mistral-ocr-2099",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
        },
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "mistral",
        "embedding",
        f"{MISTRAL}/embeddings",
        422,
        {
            "object": "error",
            "message": {"detail": [{"loc": ["body", "input"], "msg": "Field required", "type": "missing"}]},
            "type": "invalid_request_error",
        },
        Reason.BAD_REQUEST,
    ),
    ("mistral", "ocr", f"{MISTRAL}/ocr", 500, {"message": "Internal server error"}, Reason.SERVER),
    ("mistral", "ocr", f"{MISTRAL}/ocr", 503, "upstream connect error", Reason.SERVER),
    (
        "mistral",
        "ocr",
        f"{MISTRAL}/ocr",
        200,
        {"model": "mistral-ocr-latest", "usage_info": {}},
        Reason.MALFORMED_RESPONSE,
    ),
    # The rest of §8's detection column, one body each
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        400,
        openai_error(
            "Your request was rejected by the safety system. safety_violations=[violence].",
            "image_generation_user_error",
            None,
        ),
        Reason.SAFETY,
    ),  # the type with a safety message, no code
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        400,
        openai_error("Invalid image size for this model.", "image_generation_user_error", None),
        Reason.BAD_REQUEST,
    ),
    (
        "openai",
        "chat",
        f"{OPENAI}/chat/completions",
        200,
        "<html><body>cloudflare</body></html>",
        Reason.MALFORMED_RESPONSE,
    ),
    ("openai", "chat", f"{OPENAI}/chat/completions", 200, chat_completion(""), Reason.MALFORMED_RESPONSE),
    (
        "openai",
        "image",
        f"{OPENAI}/images/generations",
        200,
        {"created": 1, "data": []},
        Reason.MALFORMED_RESPONSE,
    ),
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        403,
        router_error(
            403, 'openai/gpt-5 requires moderation on OpenRouter. Your input was flagged for "violence".'
        ),
        Reason.SAFETY,
    ),  # the wording alone, without metadata.reasons
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        403,
        router_error(403, "This model is not available in your region."),
        Reason.AUTH,
    ),  # 403, neither safety nor quota
    (
        "openrouter",
        "chat",
        f"{ROUTER}/chat/completions",
        200,
        router_error(403, "requires moderation", reasons=["hate"]),
        Reason.SAFETY,
    ),  # moderation after generation began
    (
        "openrouter",
        "embedding",
        f"{ROUTER}/embeddings",
        200,
        {"object": "list", "data": []},
        Reason.MALFORMED_RESPONSE,
    ),
    (
        "deepseek",
        "chat",
        DEEPSEEK,
        400,
        openai_error("Invalid Format", "invalid_request_error", "invalid_request_error"),
        Reason.BAD_REQUEST,
    ),
    (
        "mistral",
        "ocr",
        f"{MISTRAL}/ocr",
        404,
        {
            "object": "error",
            "message": "Invalid model: mistral-ocr-2099",
            "type": "invalid_model",
            "param": None,
            "code": "1500",
        },
        Reason.MODEL_NOT_FOUND,
    ),
    (
        "mistral",
        "embedding",
        f"{MISTRAL}/embeddings",
        200,
        {"object": "list", "data": [{"index": 0}]},
        Reason.MALFORMED_RESPONSE,
    ),
    ("anthropic", "chat", ANTHROPIC, 200, "<html>502 Bad Gateway</html>", Reason.MALFORMED_RESPONSE),
]


def _request_for(kind):
    return {"image": AIRequest(prompt="a red fox"), "chat": CHAT, "ocr": OCR, "embedding": EMBED}[kind]


@pytest.mark.parametrize(
    "provider,kind,url,status,body,reason",
    ROWS,
    ids=[f"{r[0]}-{r[3]}-{r[5].value}-{i}" for i, r in enumerate(ROWS)],
)
def test_each_failure_maps_to_its_normalised_reason(mocked, provider, kind, url, status, body, reason):
    if isinstance(body, str):
        mocked.post(url, body=body, status=status)
    else:
        mocked.post(url, json=body, status=status)
    error = fails(provider, kind, _request_for(kind))
    assert error.reason == reason
    assert "https://" not in error.short


def test_retry_after_is_read_from_the_header(mocked):
    mocked.post(
        ANTHROPIC,
        json=anthropic_error("rate_limit_error", "slow down"),
        status=429,
        headers={"retry-after": "7"},
    )
    assert fails("anthropic", "chat", CHAT).retry_after == 7.0


@pytest.mark.parametrize(
    "provider,kind,url",
    [
        ("openai", "chat", f"{OPENAI}/chat/completions"),
        ("anthropic", "ocr", ANTHROPIC),
        ("mistral", "embedding", f"{MISTRAL}/embeddings"),
        ("openrouter", "image", f"{ROUTER}/chat/completions"),
    ],
)
def test_a_client_side_timeout_is_a_timeout(mocked, provider, kind, url):
    mocked.post(url, body=requests.exceptions.ReadTimeout("Read timed out."))
    error = fails(provider, kind, _request_for(kind))
    assert (error.reason, error.short, error.status_code) == (Reason.TIMEOUT, "timed out", None)


def test_openais_retry_after_ms_is_preferred(mocked):
    mocked.post(
        f"{OPENAI}/chat/completions",
        status=429,
        headers={"retry-after-ms": "1500", "retry-after": "2"},
        json=openai_error("Rate limit reached", "requests", "rate_limit_exceeded"),
    )
    assert fails("openai", "chat", CHAT).retry_after == 1.5


def test_a_connection_failure_is_a_server_failure(mocked):
    mocked.post(f"{OPENAI}/chat/completions", body=requests.exceptions.ConnectionError("Connection refused"))
    error = fails("openai", "chat", CHAT)
    assert (error.reason, error.short) == (Reason.SERVER, "connection refused")


# --- Request shapes and success parsing ----------------------------------------------------------


def test_openai_generates_with_gpt_image_and_decodes_b64(mocked):
    mocked.post(
        f"{OPENAI}/images/generations",
        json={
            "created": 1713833628,
            "data": [{"b64_json": PNG_B64}],
            "output_format": "png",
            "size": "1024x1024",
        },
        match=[matchers.header_matcher({"Authorization": f"Bearer {SECRET}"})],
    )
    output = call("openai", "image", AIRequest(prompt="a red fox"), model="gpt-image-2")
    assert output.image == PNG
    body = sent_json(mocked.calls[0])
    assert body["model"] == "gpt-image-2" and body["prompt"] == "a red fox" and "response_format" not in body


def test_openai_edits_are_multipart_with_the_reference(mocked):
    mocked.post(f"{OPENAI}/images/edits", json={"created": 1, "data": [{"b64_json": PNG_B64}]})
    call(
        "openai",
        "image",
        AIRequest(prompt="brighter", reference_image=png("blue"), reference_mime="image/png"),
        model="gpt-image-2",
    )
    request = mocked.calls[0].request
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="image"; filename="reference.png"' in request.body and png("blue") in request.body
    assert b'name="model"' in request.body and b"gpt-image-2" in request.body


def test_openai_image_without_b64_is_malformed(mocked):
    mocked.post(f"{OPENAI}/images/generations", json={"created": 1, "data": [{"url": "https://x/y.png"}]})
    assert fails("openai", "image", AIRequest(prompt="x")).reason == Reason.MALFORMED_RESPONSE


def test_openai_chat_sends_the_tone_as_system_and_reads_the_answer(mocked):
    mocked.post(f"{OPENAI}/chat/completions", json=chat_completion("Lasagne night!"))
    assert call("openai", "chat", CHAT, model="gpt-4o").text == "Lasagne night!"
    body = sent_json(mocked.calls[0])
    assert body["messages"] == [
        {"role": "system", "content": "Warm and playful"},
        {"role": "user", "content": CHAT.prompt},
    ]
    assert "max_completion_tokens" in body and "max_tokens" not in body  # gpt-5 rejects max_tokens


def test_openai_embeddings_keep_the_input_order(mocked):
    body = embeddings([0.1, 0.2], [0.3, 0.4])
    body["data"].reverse()
    mocked.post(f"{OPENAI}/embeddings", json=body)
    output = call("openai", "embedding", EMBED, model="text-embedding-3-small")
    assert output.vectors == ((0.1, 0.2), (0.3, 0.4)) and output.model == "text-embedding-3-small"
    assert sent_json(mocked.calls[0]) == {
        "model": "text-embedding-3-small",
        "input": ["tomato soup", "lemon tart"],
    }


def test_openrouter_vision_ocr_sends_the_image_as_a_data_url(mocked):
    mocked.post(f"{ROUTER}/chat/completions", json=chat_completion("MENU\nSoup 6.50"))
    assert call("openrouter", "ocr", OCR, model="openai/gpt-4o").text == "MENU\nSoup 6.50"
    parts = sent_json(mocked.calls[0])["messages"][0]["content"]
    assert parts[1]["image_url"]["url"] == f"data:image/png;base64,{PNG_B64}"


def test_openrouter_calls_carry_the_current_attribution_headers(mocked):
    mocked.post(f"{ROUTER}/chat/completions", json=chat_completion("Hi"))
    call("openrouter", "chat", AIRequest(prompt="x"), model="openai/gpt-4o")
    headers = mocked.calls[0].request.headers
    assert headers["X-OpenRouter-Title"] == "BiteTheMenu"
    assert headers["HTTP-Referer"] == "https://bitethemenu.example"
    assert "X-Title" not in headers


def test_an_openrouter_524_is_a_timeout(mocked):
    mocked.post(f"{ROUTER}/chat/completions", status=524, body="error code: 524")
    error = fails("openrouter", "chat", AIRequest(prompt="x"), model="openai/gpt-4o")
    assert error.reason == Reason.TIMEOUT and error.status_code == 524


def test_openrouter_images_come_back_in_message_images(mocked):
    mocked.post(
        f"{ROUTER}/chat/completions",
        json=chat_completion(
            "Here", images=[{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}]
        ),
    )
    output = call("openrouter", "image", AIRequest(prompt="fox"), model="google/gemini-2.5-flash-image")
    assert output.image == PNG
    assert sent_json(mocked.calls[0])["modalities"] == ["image", "text"]


def test_anthropic_ocr_sends_an_image_block_and_joins_text(mocked):
    mocked.post(
        ANTHROPIC,
        json={
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-6",
            "content": [{"type": "text", "text": "MENU\n"}, {"type": "text", "text": "Soup"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 2},
        },
        match=[matchers.header_matcher({"x-api-key": SECRET, "anthropic-version": "2023-06-01"})],
    )
    assert call("anthropic", "ocr", OCR, model="claude-sonnet-4-6").text == "MENU\nSoup"
    block = sent_json(mocked.calls[0])["messages"][0]["content"][0]
    assert block == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64},
    }


def test_anthropic_reads_a_pdf_as_a_document_block(mocked):
    mocked.post(
        ANTHROPIC,
        json={"type": "message", "content": [{"type": "text", "text": "Menu"}], "stop_reason": "end_turn"},
    )
    call("anthropic", "ocr", AIRequest(document=b"%PDF-1.7 ...", document_mime="application/pdf"))
    assert sent_json(mocked.calls[0])["messages"][0]["content"][0]["type"] == "document"


def test_mistral_ocr_joins_page_markdown(mocked):
    mocked.post(
        f"{MISTRAL}/ocr",
        json={
            "pages": [
                {"index": 0, "markdown": "# Menu", "images": []},
                {"index": 1, "markdown": "Soup 6.50", "images": []},
            ],
            "model": "mistral-ocr-2505",
            "usage_info": {"pages_processed": 2},
        },
    )
    assert call("mistral", "ocr", OCR, model="mistral-ocr-latest").text == "# Menu\n\nSoup 6.50"
    assert sent_json(mocked.calls[0])["document"] == {
        "type": "image_url",
        "image_url": f"data:image/png;base64,{PNG_B64}",
    }


def test_mistral_embeddings(mocked):
    mocked.post(f"{MISTRAL}/embeddings", json=embeddings([1.0, 0.0], [0.0, 1.0]))
    assert call("mistral", "embedding", EMBED, model="mistral-embed").vectors == ((1.0, 0.0), (0.0, 1.0))


def test_deepseek_chat(mocked):
    mocked.post(DEEPSEEK, json=chat_completion("Cheap and cheerful"))
    assert call("deepseek", "chat", CHAT, model="deepseek-v4-flash").text == "Cheap and cheerful"


def test_openai_compatible_allows_http_and_sends_no_key_when_none_is_set(mocked):
    mocked.post("http://ollama.internal:11434/v1/chat/completions", json=chat_completion("Local answer"))
    output = call("openai_compatible", "chat", CHAT, base_url="http://ollama.internal:11434/v1", api_key="")
    assert output.text == "Local answer"
    assert "Authorization" not in mocked.calls[0].request.headers
    assert "max_tokens" in sent_json(mocked.calls[0])


def test_plain_http_is_refused_for_hosted_providers(mocked):
    error = fails("openai", "chat", CHAT, base_url="http://api.openai.com/v1")
    assert error.reason == Reason.BAD_REQUEST and error.short == "refused http scheme"


def test_b64_of_garbage_is_malformed(mocked):
    mocked.post(
        f"{OPENAI}/images/generations",
        json={"data": [{"b64_json": base64.b64encode(b"not an image").decode()}]},
    )
    assert fails("openai", "image", AIRequest(prompt="x")).reason == Reason.MALFORMED_RESPONSE
