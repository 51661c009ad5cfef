"""Pricing per model (issue 14, item 3): every registry model has a price, premium ones cost more, and
both the AI Fallbacks cards and the venue's AI settings page show it."""

from __future__ import annotations

import pytest

from resilience import pricing
from resilience.models import VenuePrimary
from resilience.registry import PROVIDERS


def test_every_registry_model_has_a_price():
    for spec in PROVIDERS.values():
        for kind in spec.kinds:
            for model in spec.models_for(kind):
                assert model in pricing.TIERS[kind], f"{spec.id} {kind} {model} has no price"


def test_premium_models_cost_more_than_the_everyday_ones(settings):
    cost = pricing.model_credits
    assert cost("image", "nano-banana-2") == settings.CREDIT_COSTS["image"]
    assert cost("image", "nano-banana-2") < cost("image", "nano-banana-pro") < cost("image", "gpt-image-2")
    assert cost("chat", "deepseek-v4-flash") < cost("chat", "gpt-4o") < cost("chat", "gpt-5")
    assert cost("chat", "claude-sonnet-5") < cost("chat", "claude-opus-4-8")


def test_prices_follow_the_operators_default_costs(settings):
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "image": 10}
    assert pricing.model_credits("image", "nano-banana-pro") == 20
    assert pricing.model_credits("image", "a-model-the-admin-typed") == 10


@pytest.mark.django_db
def test_a_venue_pays_its_primarys_price_or_the_default(venue, settings):
    assert pricing.credits_for(venue, "image") == settings.CREDIT_COSTS["image"]
    VenuePrimary.objects.create(venue=venue, kind="image", provider="openai", model="gpt-image-2")
    assert pricing.credits_for(venue, "image") == 3 * settings.CREDIT_COSTS["image"]


@pytest.mark.django_db
def test_the_ai_fallbacks_cards_show_the_venue_price(client, superadmin):
    from resilience.chains import reset_chain

    reset_chain("image")
    client.force_login(superadmin)
    html = client.get("/admin/super/ai-fallbacks/image/").content.decode()
    assert 'data-price="4"' in html  # KIE Nano Banana 2
    assert 'data-price="8"' in html and "Platform default: 4" in html  # Nano Banana Pro
    assert 'data-price="12"' in html  # OpenAI gpt-image-2


@pytest.mark.django_db
def test_the_ai_settings_page_shows_each_models_price(client, staff, venue):
    client.force_login(staff)
    html = client.get("/settings/ai/").content.decode()
    assert "Platform default — 4 credits" in html
    assert "OpenAI · gpt-image-2 — 12 credits" in html
    assert "KIE · nano-banana-2 — 4 credits" in html
    assert "Platform default — 1 credit (200 a day free)" in html  # embeddings


@pytest.mark.django_db
def test_set_primary_refuses_a_model_nobody_approved(venue):
    from bitethemenu.errors import FriendlyError
    from resilience.primaries import set_primary

    with pytest.raises(FriendlyError) as caught:
        set_primary(venue=venue, kind="chat", provider="openai", model="o9-reasoning-max")
    assert caught.value.code == "invalid_input"
    assert not VenuePrimary.objects.exists()
