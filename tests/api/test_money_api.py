"""Money over the API: 429 rate_limited with Retry-After in the one error shape, Idempotency-Keys
on free kinds, and primaries limited to approved (priced) models (issues 12 and 14)."""

from __future__ import annotations

import pytest

from credits.gate import balance_of
from resilience.models import ChainCandidate
from resilience.primaries import primaries_for
from tests.api.conftest import assert_error

pytestmark = pytest.mark.usefixtures("simulated_chains", "funded")

TEXT = "/venues/chez-a/text"
SETTINGS = "/venues/chez-a/ai-settings"


def test_over_the_venue_limit_is_a_429_with_retry_after(owner_api, staff_api, venue, settings):
    settings.RATE_LIMIT_PAID_PER_VENUE = 2
    assert owner_api.post(TEXT, {"prompt": "one"}).status_code == 201
    assert staff_api.post(TEXT, {"prompt": "two"}).status_code == 201
    balance = balance_of(venue)

    response = owner_api.post(TEXT, {"prompt": "three"})

    body = assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "nothing was charged" in body["user_message"]
    assert balance_of(venue) == balance


def test_over_the_key_owners_limit_is_a_429_for_that_key_only(owner_api, staff_api, settings):
    settings.RATE_LIMIT_PAID_PER_ACTOR = 1
    assert owner_api.post(TEXT, {"prompt": "one"}).status_code == 201
    assert_error(owner_api.post(TEXT, {"prompt": "two"}), 429, "rate_limited")
    assert staff_api.post(TEXT, {"prompt": "three"}).status_code == 201


def test_embeddings_are_rate_limited_too(owner_api, settings):
    settings.RATE_LIMIT_PAID_PER_VENUE = 1
    assert owner_api.post("/venues/chez-a/embeddings", {"input": ["soup"]}).status_code == 200
    response = owner_api.post("/venues/chez-a/embeddings", {"input": ["soup"]})
    assert_error(response, 429, "rate_limited")
    assert response["Retry-After"]


def test_the_openapi_document_lists_429_for_paid_calls(owner_api):
    paths = owner_api.get("/openapi.json").json()["paths"]
    assert "429" in paths["/api/v1/venues/{slug}/text"]["post"]["responses"]
    assert "429" in paths["/api/v1/venues/{slug}/embeddings"]["post"]["responses"]


def test_an_idempotency_key_holds_for_a_free_kind(owner_api, settings):
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "chat": 0}
    key = {"Idempotency-Key": "free-kind-key-0001"}
    first = owner_api.post(TEXT, {"prompt": "one"}, headers=key)
    assert first.status_code == 201 and first.json()["credits_charged"] == 0
    assert_error(owner_api.post(TEXT, {"prompt": "one"}, headers=key), 409, "conflict")


def test_a_premium_primary_is_charged_its_price(owner_api, venue):
    assert owner_api.put(SETTINGS, {"chat": {"provider": "openai", "model": "gpt-5"}}).status_code == 200
    body = owner_api.post(TEXT, {"prompt": "one"}).json()  # no OpenAI key: the chain answers
    assert body["credits_charged"] == 3 * settings_cost("chat")


def settings_cost(kind: str) -> int:
    from django.conf import settings

    return settings.CREDIT_COSTS[kind]


def test_a_model_nobody_approved_is_refused(owner_api, venue):
    body = {"chat": {"provider": "openrouter", "model": "anthropic/claude-opus-9-reasoning"}}
    error = assert_error(owner_api.put(SETTINGS, body), 422, "invalid_input")
    assert "Pick one of the models" in error["user_message"]
    assert primaries_for(venue)["chat"] is None


def test_a_model_the_super_admin_typed_into_a_chain_is_approved(owner_api, venue):
    ChainCandidate.objects.create(
        kind="chat", priority=9, label="New", provider="openrouter", model="mistralai/mistral-large-3"
    )
    body = {"chat": {"provider": "openrouter", "model": "mistralai/mistral-large-3"}}
    assert owner_api.put(SETTINGS, body).status_code == 200
    assert primaries_for(venue)["chat"].model == "mistralai/mistral-large-3"
