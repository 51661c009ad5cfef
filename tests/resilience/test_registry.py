from __future__ import annotations

import pytest

from bitethemenu.errors import FriendlyError
from resilience.primaries import clear_primary, primaries_for, set_primary
from resilience.registry import available_providers, default_base_url, get_provider, kie_upload_base_url


def test_every_provider_of_the_design_is_registered_with_its_defaults():
    ids = {
        "kie",
        "openai",
        "openrouter",
        "anthropic",
        "deepseek",
        "mistral",
        "openai_compatible",
        "simulated",
    }
    assert {id_ for id_ in ids if get_provider(id_)} == ids
    assert get_provider("openai").env_key == "OPENAI_API_KEY"
    assert "gpt-image-2" in get_provider("openai").models["image"]
    assert "nano-banana-2" in get_provider("kie").models["image"]
    assert get_provider("nope") is None


def test_retired_models_are_not_offered():
    offered = {m for spec in available_providers() for models in spec.models.values() for m in models}
    assert not offered & {"dall-e-3", "dall-e-2", "gpt-image-1", "deepseek-chat"}


def test_simulated_is_hidden_unless_enabled(settings):
    settings.SIMULATED_PROVIDER_ENABLED = False
    assert "simulated" not in [p.id for p in available_providers()]
    settings.SIMULATED_PROVIDER_ENABLED = True
    assert "simulated" in [p.id for p in available_providers()]


def test_base_urls_follow_the_declared_settings(settings):
    assert default_base_url("openai") == "https://api.openai.com/v1"
    settings.AI_PROVIDER_BASE_URLS = {**settings.AI_PROVIDER_BASE_URLS, "openai": "https://proxy.example/v1/"}
    assert default_base_url("openai") == "https://proxy.example/v1"
    assert kie_upload_base_url() == "https://kieai.redpandaai.co"
    settings.KIE_UPLOAD_BASE_URL = "https://upload.example"
    assert kie_upload_base_url() == "https://upload.example"


def test_a_venue_primary_can_be_set_replaced_and_cleared(venue):
    assert primaries_for(venue) == {"image": None, "chat": None, "ocr": None, "embedding": None}
    set_primary(venue=venue, kind="image", provider="simulated", model="ok")
    set_primary(venue=venue, kind="image", provider="openai", model="gpt-image-2")
    primary = primaries_for(venue)["image"]
    assert (primary.provider, primary.model) == ("openai", "gpt-image-2")
    clear_primary(venue=venue, kind="image")
    assert primaries_for(venue)["image"] is None


@pytest.mark.parametrize(
    "kind,provider,model",
    [
        ("video", "openai", "x"),
        ("image", "nope", "x"),
        ("image", "mistral", "mistral-ocr-latest"),
        ("chat", "openai", " "),
    ],
)
def test_a_bad_primary_is_refused_with_a_friendly_error(venue, kind, provider, model):
    with pytest.raises(FriendlyError) as info:
        set_primary(venue=venue, kind=kind, provider=provider, model=model)
    assert info.value.code == "invalid_input"
    assert primaries_for(venue)["image"] is None
