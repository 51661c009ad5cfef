"""How the adapters use the seam: a size cap per use (JSON answer, image answer, KIE result), the
address guard for admin-entered and provider-given URLs, and operator base URLs from the environment
(trusted, and allowed over http as the official SDKs allow) — with the reasons the cascade sees."""

from __future__ import annotations

import base64
import json

import pytest

from resilience.errors import Reason
from resilience.providers.base import ProviderError
from resilience.providers.kie import KieAdapter
from resilience.types import AIRequest
from tests.resilience.helpers import PNG, call
from tests.resilience.servers import RawServer, answer

CHAT = {
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]
}


def chat(provider: str, *, base_url: str | None = None) -> str:
    output = call(provider, "chat", AIRequest(prompt="hi"), base_url=base_url, timeout=5.0)
    return output.text


def chat_failure(provider: str, *, base_url: str | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        chat(provider, base_url=base_url)
    return info.value


def test_a_json_answer_over_the_cap_is_malformed(mocked, settings):
    settings.AI_MAX_JSON_BYTES = 1024
    mocked.post("https://api.openai.com/v1/chat/completions", json={**CHAT, "padding": "x" * 2000})
    error = chat_failure("openai")
    assert (error.reason, error.short) == (Reason.MALFORMED_RESPONSE, "answer over 1 KiB")


def test_an_image_answer_may_carry_the_base64_of_a_full_size_image(mocked, settings):
    settings.AI_MAX_JSON_BYTES = 1024  # far below the answer, which holds an image
    settings.MAX_IMAGE_BYTES = 4096
    image = PNG + b"\0" * (3000 - len(PNG))  # a 3000-byte PNG: its base64 alone passes 1 KiB
    mocked.post(
        "https://api.openai.com/v1/images/generations",
        json={"data": [{"b64_json": base64.b64encode(image).decode()}]},
    )
    output = call("openai", "image", AIRequest(prompt="a fox"), timeout=5.0)
    assert output.image == image


def test_an_admin_entered_private_base_url_is_refused_as_our_configuration(settings):
    settings.AI_PRIVATE_HOSTS = []
    with RawServer(lambda conn, request: answer(conn, json.dumps(CHAT).encode())) as server:
        error = chat_failure("openai_compatible", base_url=f"{server.url}/v1")
    assert (error.reason, error.short) == (Reason.BAD_REQUEST, "refused a private or local address")
    assert server.connections == 0


def test_a_private_base_url_listed_by_the_operator_is_reached(settings):
    with RawServer(lambda conn, request: answer(conn, json.dumps(CHAT).encode())) as server:
        settings.AI_PRIVATE_HOSTS = ["127.0.0.1"]
        assert chat("openai_compatible", base_url=f"{server.url}/v1") == "Hello"


def test_an_http_base_url_from_the_environment_is_trusted(settings):
    """OPENAI_BASE_URL=http://… (a local proxy, as every official SDK allows): http and its private
    address are the operator's choice — no AI_PRIVATE_HOSTS needed."""
    settings.AI_PRIVATE_HOSTS = []
    with RawServer(lambda conn, request: answer(conn, json.dumps(CHAT).encode())) as server:
        settings.AI_PROVIDER_BASE_URLS = {**settings.AI_PROVIDER_BASE_URLS, "openai": f"{server.url}/v1"}
        assert chat("openai") == "Hello"
        assert server.requests[0].startswith(b"POST /v1/chat/completions ")


def test_an_admin_entered_http_override_keeps_todays_rule(mocked):
    error = chat_failure("openai", base_url="http://gateway.example/v1")
    assert (error.reason, error.short) == (Reason.BAD_REQUEST, "refused http scheme")


# KIE's result URL comes from KIE's answer: guarded, and capped at the image size.


def download(url: str) -> bytes:
    from resilience.providers import base

    return KieAdapter().download(url, ends_at=base.CLOCK.now() + 5.0)


def test_a_kie_result_url_at_a_private_address_is_refused_without_connecting(settings):
    settings.AI_PRIVATE_HOSTS = []
    with RawServer(lambda conn, request: answer(conn, PNG)) as server:
        with pytest.raises(ProviderError) as info:
            download(f"{server.url}/r.png".replace("http://", "https://"))
    assert (info.value.reason, info.value.short) == (
        Reason.BAD_REQUEST,
        "result download: refused a private or local address",
    )
    assert server.connections == 0


def test_a_kie_result_over_the_image_cap_is_malformed_and_not_read_whole(mocked, settings):
    settings.MAX_IMAGE_BYTES = 2048
    mocked.get("https://tempfile.aiquickdraw.com/r/big.png", body=PNG + b"\0" * 10_000)
    with pytest.raises(ProviderError) as info:
        download("https://tempfile.aiquickdraw.com/r/big.png")
    assert (info.value.reason, info.value.short) == (
        Reason.MALFORMED_RESPONSE,
        "result download: answer over 2 KiB",
    )
