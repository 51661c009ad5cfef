"""The simulated provider behaves as its model ids say, deterministically, with real outputs."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from resilience.errors import Reason
from resilience.providers.base import ProviderError
from resilience.registry import SIMULATED_MODELS, get_adapter
from resilience.types import AIRequest

from .helpers import PNG

REQUESTS = {
    "image": AIRequest(prompt="grilled squid", style="moody"),
    "chat": AIRequest(prompt="grilled squid"),
    "ocr": AIRequest(document=PNG, document_mime="image/png"),
    "embedding": AIRequest(inputs=("grilled squid", "lemon tart")),
}


def simulate(kind, model, request=None):
    return get_adapter("simulated").call(
        kind, request or REQUESTS[kind], model=model, base_url="", api_key="", timeout=1.0
    )


@pytest.mark.parametrize("kind", REQUESTS)
def test_ok_gives_usable_deterministic_output(kind):
    first, second = simulate(kind, "ok"), simulate(kind, "ok")
    assert first == second
    if kind == "image":
        assert Image.open(io.BytesIO(first.image)).size == (384, 384) and first.image_mime == "image/png"
    elif kind == "embedding":
        assert len(first.vectors) == 2 and all(len(v) == 256 for v in first.vectors)
    else:
        assert first.text.strip()


def test_different_prompts_draw_different_images():
    assert simulate("image", "ok").image != simulate("image", "ok", AIRequest(prompt="lemon tart")).image


@pytest.mark.parametrize(
    "model,reason",
    [
        ("sensitive", Reason.SAFETY),
        ("rate-limit", Reason.RATE_LIMIT),
        ("gone", Reason.MODEL_NOT_FOUND),
        ("timeout", Reason.TIMEOUT),
        ("server-error", Reason.SERVER),
        ("empty", Reason.MALFORMED_RESPONSE),
    ],
)
@pytest.mark.parametrize("kind", REQUESTS)
def test_failing_models_fail_with_their_reason(kind, model, reason):
    with pytest.raises(ProviderError) as info:
        simulate(kind, model)
    assert info.value.reason == reason


def test_sensitive_with_reference_only_refuses_when_a_reference_is_attached():
    assert simulate("image", "sensitive-with-reference").image
    with pytest.raises(ProviderError) as info:
        simulate("image", "sensitive-with-reference", AIRequest(prompt="x", reference_image=PNG))
    assert info.value.reason == Reason.SAFETY


def test_every_simulated_model_is_listed_in_the_registry():
    assert set(SIMULATED_MODELS) == {
        "ok",
        "sensitive",
        "sensitive-with-reference",
        "rate-limit",
        "gone",
        "timeout",
        "server-error",
        "hang",
        "empty",
    }


def test_hang_uses_the_whole_attempt_timeout_then_times_out(monkeypatch):
    from tests.clocks import install_instant_clock

    clock = install_instant_clock(monkeypatch)
    with pytest.raises(ProviderError) as info:
        get_adapter("simulated").call(
            "chat", AIRequest(prompt="x"), model="hang", base_url="", api_key="", timeout=12.5
        )
    assert info.value.reason == Reason.TIMEOUT and clock.sleeps == [12.5]
