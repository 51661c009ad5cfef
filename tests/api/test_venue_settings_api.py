"""Venue endpoints about the venue itself: credits and AI settings."""

from __future__ import annotations

import pytest

from credits.gate import grant
from resilience.primaries import primaries_for, set_primary
from tests.api.conftest import assert_error

SETTINGS = "/venues/chez-a/ai-settings"
ALL_NULL = {"image": None, "chat": None, "ocr": None, "embedding": None}


def test_it_shows_the_balance_and_ledger_newest_first(owner_api, venue, simulated_chains):
    grant(venue=venue, amount=10, note="Welcome")
    owner_api.post("/venues/chez-a/text", {"prompt": "Caption"})
    body = owner_api.get("/venues/chez-a/credits").json()
    assert body["balance"] == 9
    assert [e["kind"] for e in body["entries"]] == ["charge", "grant"]
    assert body["entries"][0]["amount"] == -1
    assert body["entries"][0]["request_id"]
    assert body["entries"][1] == {**body["entries"][1], "amount": 10, "note": "Welcome", "request_id": ""}
    assert set(body["entries"][0]) == {"kind", "amount", "request_id", "created_at", "note"}


def test_a_staff_key_sees_the_balance_but_not_the_history(staff_api, owner_api, venue):
    # A key acts with its owner's rights: like the Credits page, the ledger is for owners.
    grant(venue=venue, amount=10, note="Welcome")
    assert staff_api.get("/venues/chez-a/credits").json() == {"balance": 10, "entries": []}
    assert len(owner_api.get("/venues/chez-a/credits").json()["entries"]) == 1


def test_a_venue_without_credits_has_zero(staff_api, venue):
    assert staff_api.get("/venues/chez-a/credits").json() == {"balance": 0, "entries": []}


def test_a_refund_shows_in_the_ledger(owner_api, venue):
    from tests.api.conftest import use_chain

    use_chain("image", "gone")
    grant(venue=venue, amount=10, note="x")
    owner_api.post("/venues/chez-a/images", {"prompt": "x"})
    body = owner_api.get("/venues/chez-a/credits").json()
    assert [e["kind"] for e in body["entries"]] == ["refund", "charge", "grant"]
    assert body["balance"] == 10


def test_ai_settings_start_empty(owner_api, venue):
    assert owner_api.get(SETTINGS).json() == ALL_NULL


def test_put_sets_leaves_and_clears_kinds(staff_api, venue):
    set_primary(venue=venue, kind="ocr", provider="mistral", model="mistral-ocr-latest")
    set_primary(venue=venue, kind="chat", provider="openai", model="gpt-4o")
    response = staff_api.put(
        SETTINGS, {"image": {"provider": "openai", "model": "gpt-image-2"}, "chat": None}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "image": {"provider": "openai", "model": "gpt-image-2"},
        "chat": None,
        "ocr": {"provider": "mistral", "model": "mistral-ocr-latest"},
        "embedding": None,
    }
    assert staff_api.get(SETTINGS).json() == response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"image": {"provider": "nope", "model": "x"}},
        {"image": {"provider": "mistral", "model": "mistral-ocr-latest"}},
        {"image": {"provider": "openai", "model": "  "}},
        {"image": {"provider": "openai"}},
        {"image": "openai"},
    ],
)
def test_put_refuses_bad_settings_all_or_nothing(owner_api, venue, body):
    body = {"chat": {"provider": "openai", "model": "gpt-4o"}, **body}
    assert_error(owner_api.put(SETTINGS, body), 422, "invalid_input")
    assert primaries_for(venue) == {"image": None, "chat": None, "ocr": None, "embedding": None}


def test_settings_belong_to_one_venue(outsider_api, venue):
    assert_error(outsider_api.put(SETTINGS, {"image": None}), 404, "not_found")
    assert_error(outsider_api.get(SETTINGS), 404, "not_found")


@pytest.mark.parametrize(
    "model",
    [
        "m" * 201,  # one over the column: a database error (500) on PostgreSQL before
        "m" * 300,  # the schema's own cap
        "gpt-4o\n2026-12-01 INFO alerts Slack: all providers healthy",  # a forged log line
        "gpt-4o\r\nx",
        "gpt-4o\u2028x",  # a Unicode line separator
        "gpt\u202e4o",  # a right-to-left override that makes the id read otherwise
    ],
)
def test_put_refuses_a_model_id_too_long_or_with_control_characters(owner_api, venue, model):
    body = assert_error(
        owner_api.put(
            SETTINGS,
            {
                "chat": {"provider": "openai", "model": "gpt-4o"},
                "image": {"provider": "openai", "model": model},
            },
        ),
        422,
        "invalid_input",
    )
    assert "\n" not in body["technical_detail"] and "\u2028" not in body["technical_detail"]
    assert primaries_for(venue) == ALL_NULL_ROWS


ALL_NULL_ROWS = {"image": None, "chat": None, "ocr": None, "embedding": None}


def test_put_accepts_a_model_id_of_exactly_200_characters(owner_api, venue):
    from resilience.models import ChainCandidate

    # Approved because the super admin typed it into the chat chain (resilience.pricing.is_approved).
    ChainCandidate.objects.create(kind="chat", priority=99, label="Long", provider="openai", model="m" * 200)
    response = owner_api.put(SETTINGS, {"chat": {"provider": "openai", "model": "m" * 200}})
    assert response.status_code == 200, response.content
    assert primaries_for(venue)["chat"].model == "m" * 200
