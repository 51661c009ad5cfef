"""Super-admin endpoints: providers, chains, alerts, venues and grants."""

from __future__ import annotations

import pytest

from alerts.attempts import Attempt
from alerts.models import Alert
from alerts.record import record_exhaustion
from bitethemenu.models import Venue
from credits.gate import balance_of
from credits.models import LedgerEntry
from resilience.defaults import DEFAULT_CHAINS
from resilience.models import ChainCandidate, ChainRevision
from tests.api.conftest import assert_error

CANDIDATE_FIELDS = {
    "id",
    "priority",
    "label",
    "provider",
    "model",
    "enabled",
    "env_key",
    "base_url",
    "notes",
    "status",
    "skip_reason",
}
ALERT_FIELDS = {
    "id",
    "kind",
    "service",
    "venue",
    "last_error",
    "created_at",
    "acknowledged",
    "acknowledged_at",
    "attempts",
    "request_id",
}


# --- Providers ------------------------------------------------------------------------------------


def test_it_lists_providers_with_defaults_and_models(admin_api, settings):
    settings.AI_PROVIDER_BASE_URLS = {**settings.AI_PROVIDER_BASE_URLS, "openai": "https://proxy.example/v1/"}
    providers = {p["id"]: p for p in admin_api.get("/admin/providers").json()}
    openai = providers["openai"]
    assert set(openai) == {"id", "label", "env_key", "base_url", "models"}
    assert set(openai["models"]) == {"image", "chat", "ocr", "embedding"}
    assert "gpt-image-2" in openai["models"]["image"]
    assert openai["env_key"] == "OPENAI_API_KEY"
    assert openai["base_url"] == "https://proxy.example/v1"
    assert providers["kie"]["models"]["chat"] == []
    assert {"kie", "openrouter", "anthropic", "deepseek", "mistral"} <= set(providers)


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ("https://user:tok-SECRET@proxy.example:8443/v1?key=SECRET#SECRET", "https://proxy.example:8443/v1"),
        ("http://[::1]:11434/v1", "http://[::1]:11434/v1"),
        ("https://[broken/v1", ""),
    ],
)
def test_a_provider_base_url_never_shows_credentials(admin_api, settings, env, shown):
    settings.AI_PROVIDER_BASE_URLS = {**settings.AI_PROVIDER_BASE_URLS, "openai": env}
    response = admin_api.get("/admin/providers")
    assert response.status_code == 200
    assert {p["id"]: p for p in response.json()}["openai"]["base_url"] == shown
    assert b"SECRET" not in response.content


# --- Chains ---------------------------------------------------------------------------------------


def test_it_reads_the_seeded_chain_in_priority_order(admin_api):
    body = admin_api.get("/admin/chains/image").json()
    assert body["kind"] == "image"
    assert [c["label"] for c in body["candidates"]] == [spec.label for spec in DEFAULT_CHAINS["image"]]
    assert [c["priority"] for c in body["candidates"]] == [1, 2, 3, 4]
    assert set(body["candidates"][0]) == CANDIDATE_FIELDS


def test_status_is_configuration_readiness(admin_api, monkeypatch):
    first = admin_api.get("/admin/chains/image").json()["candidates"][0]
    assert (first["status"], first["skip_reason"]) == ("skipped", "KIE_API_KEY not set")
    monkeypatch.setenv("KIE_API_KEY", "kie-secret-value")
    response = admin_api.get("/admin/chains/image")
    assert response.json()["candidates"][0]["status"] == "ready"
    assert b"kie-secret-value" not in response.content


def test_put_replaces_the_whole_chain_in_order(admin_api, superadmin):
    candidates = [
        {"label": "B first", "provider": "openai", "model": "gpt-5", "enabled": True},
        {
            "label": "Local",
            "provider": "openai_compatible",
            "model": "llama3.1",
            "enabled": False,
            "base_url": "http://10.0.0.5:11434/v1",
            "env_key": "LOCAL_API_KEY",
            "notes": "on-prem",
        },
    ]
    response = admin_api.put("/admin/chains/chat", {"candidates": candidates})
    assert response.status_code == 200, response.content
    saved = response.json()["candidates"]
    assert [(c["priority"], c["label"]) for c in saved] == [(1, "B first"), (2, "Local")]
    assert saved[1]["base_url"] == "http://10.0.0.5:11434/v1"
    assert saved[1]["env_key"] == "LOCAL_API_KEY"
    assert saved[1]["status"] == "skipped"
    assert admin_api.get("/admin/chains/chat").json()["candidates"] == saved
    assert ChainRevision.objects.filter(kind="chat").latest("created_at").saved_by == superadmin


@pytest.mark.parametrize(
    ("candidate", "field"),
    [
        ({"label": "X", "provider": "nope", "model": "m", "enabled": True}, "provider"),
        ({"label": "X", "provider": "openai", "model": "", "enabled": True}, "model"),
        (
            {"label": "X", "provider": "openai", "model": "gpt-5", "enabled": True, "base_url": "ftp://x"},
            "base_url",
        ),
        (
            {
                "label": "X",
                "provider": "openai",
                "model": "gpt-5",
                "enabled": True,
                "base_url": "https://api.example.com/v1?key=secret",
            },
            "base_url",
        ),
        ({"label": "X", "provider": "kie", "model": "nano-banana-2", "enabled": True}, "provider"),
    ],
)
def test_put_refuses_an_invalid_chain_and_changes_nothing(admin_api, candidate, field):
    before = list(ChainCandidate.objects.filter(kind="chat").values_list("label", flat=True))
    body = assert_error(
        admin_api.put("/admin/chains/chat", {"candidates": [candidate]}), 422, "invalid_input"
    )
    assert f"candidates[0].{field}" in body["technical_detail"]
    assert "secret" not in body["technical_detail"]
    assert list(ChainCandidate.objects.filter(kind="chat").values_list("label", flat=True)) == before


@pytest.mark.parametrize("body", [{}, {"candidates": "x"}, {"candidates": [{"label": "x"}]}])
def test_put_with_a_bad_body_is_invalid_input(admin_api, body):
    assert_error(admin_api.put("/admin/chains/image", body), 422, "invalid_input")


def test_an_unknown_kind_is_invalid_input(admin_api):
    assert_error(admin_api.get("/admin/chains/video"), 422, "invalid_input")


def test_reset_restores_the_defaults(admin_api):
    admin_api.put("/admin/chains/ocr", {"candidates": []})
    assert admin_api.get("/admin/chains/ocr").json()["candidates"] == []
    response = admin_api.post("/admin/chains/ocr/reset")
    assert response.status_code == 200
    assert [c["model"] for c in response.json()["candidates"]] == [s.model for s in DEFAULT_CHAINS["ocr"]]


# --- Alerts ---------------------------------------------------------------------------------------


def _alert(kind="image", venue=None) -> Alert:
    attempts = [
        Attempt("KIE Nano Banana 2", "kie", "nano-banana-2", "failed", "safety", 400, "flagged", 120),
        Attempt("OpenAI gpt-image-2", "openai", "gpt-image-2", "failed", "model_not_found", 404, "gone", 80),
    ]
    return record_exhaustion(
        kind=kind, service="social.generateImage", venue=venue, attempts=attempts, request_id="r1"
    )


def test_it_lists_alerts_newest_first_with_attempts(admin_api, venue):
    older, newer = _alert(venue=venue), _alert(kind="chat")
    body = admin_api.get("/admin/alerts").json()
    assert body["unacknowledged"] == 2
    assert [a["id"] for a in body["items"]] == [newer.pk, older.pk]
    item = body["items"][1]
    assert set(item) == ALERT_FIELDS
    assert item["venue"] == "chez-a"
    assert body["items"][0]["venue"] is None
    assert item["last_error"] == "OpenAI gpt-image-2 → model_not_found (404): gone"
    assert item["acknowledged"] is False
    assert item["attempts"][0] == {
        "label": "KIE Nano Banana 2",
        "provider": "kie",
        "model": "nano-banana-2",
        "outcome": "failed",
        "reason": "safety",
        "status_code": 400,
        "message": "flagged",
        "duration_ms": 120,
    }


def test_it_filters_alerts(admin_api):
    image, chat = _alert(), _alert(kind="chat")
    admin_api.post(f"/admin/alerts/{image.pk}/acknowledge")
    assert [a["id"] for a in admin_api.get("/admin/alerts", data={"kind": "chat"}).json()["items"]] == [
        chat.pk
    ]
    acked = admin_api.get("/admin/alerts", data={"acknowledged": "true"}).json()
    assert [a["id"] for a in acked["items"]] == [image.pk]
    assert acked["unacknowledged"] == 1
    open_ = admin_api.get("/admin/alerts", data={"acknowledged": "false"}).json()
    assert [a["id"] for a in open_["items"]] == [chat.pk]


def test_it_lists_alerts_in_a_fixed_number_of_queries(admin_api, django_assert_max_num_queries):
    for _ in range(5):
        _alert()
    with django_assert_max_num_queries(6):
        assert len(admin_api.get("/admin/alerts").json()["items"]) == 5


def test_it_acknowledges_one_alert(admin_api, superadmin):
    alert = _alert()
    response = admin_api.post(f"/admin/alerts/{alert.pk}/acknowledge")
    assert response.status_code == 200
    assert response.json()["acknowledged"] is True
    assert response.json()["acknowledged_at"]
    alert.refresh_from_db()
    assert alert.acknowledged_by == superadmin


@pytest.mark.parametrize("alert_id", ["999999", str(2**63 + 1)])
def test_acknowledging_an_unknown_alert_is_not_found(admin_api, alert_id):
    assert_error(admin_api.post(f"/admin/alerts/{alert_id}/acknowledge"), 404, "not_found")


def test_it_acknowledges_all(admin_api):
    _alert(), _alert(), _alert()
    assert admin_api.post("/admin/alerts/acknowledge-all").json() == {"acknowledged": 3}
    assert admin_api.post("/admin/alerts/acknowledge-all").json() == {"acknowledged": 0}
    assert admin_api.get("/admin/alerts").json()["unacknowledged"] == 0


@pytest.mark.parametrize("query", [{"kind": "video"}, {"acknowledged": "maybe"}, {"page": 0}])
def test_bad_alert_filters_are_invalid_input(admin_api, query):
    assert_error(admin_api.get("/admin/alerts", data=query), 422, "invalid_input")


# --- Venues and grants ----------------------------------------------------------------------------


def test_it_creates_a_venue_with_starting_credits(admin_api, superadmin):
    response = admin_api.post("/admin/venues", {"name": "Café Neuf", "slug": "cafe-neuf", "credits": 40})
    assert response.status_code == 201, response.content
    assert response.json() == {"slug": "cafe-neuf", "name": "Café Neuf", "balance": 40}
    venue = Venue.objects.get(slug="cafe-neuf")
    assert balance_of(venue) == 40
    assert LedgerEntry.objects.get(venue=venue).by == superadmin


def test_zero_credits_is_a_valid_start(admin_api):
    response = admin_api.post("/admin/venues", {"name": "Zero", "slug": "zero", "credits": 0})
    assert response.status_code == 201
    assert response.json()["balance"] == 0


def test_an_existing_slug_is_a_conflict(admin_api, venue):
    assert_error(
        admin_api.post("/admin/venues", {"name": "Dup", "slug": "chez-a", "credits": 0}), 409, "conflict"
    )
    assert Venue.objects.filter(slug="chez-a").count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X", "slug": "x", "credits": -1},
        {"name": "X", "slug": "has space", "credits": 0},
        {"name": "", "slug": "x", "credits": 0},
        {"name": "X", "slug": "x"},
        {"name": "X", "slug": "x", "credits": "5"},
        {"name": "X", "slug": "x", "credits": 10**12},
    ],
)
def test_a_bad_venue_is_invalid_input(admin_api, body):
    assert_error(admin_api.post("/admin/venues", body), 422, "invalid_input")
    assert not Venue.objects.filter(slug="x").exists()


def test_it_grants_credits(admin_api, venue):
    response = admin_api.post("/admin/venues/chez-a/credits", {"amount": 25, "note": "Top-up"})
    assert response.status_code == 200
    assert response.json() == {"balance": 25}
    assert LedgerEntry.objects.get(venue=venue).note == "Top-up"


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0, "note": "x"},
        {"amount": -5, "note": "x"},
        {"amount": 5},
        {"amount": True, "note": "x"},
        {"amount": 5, "note": "x" * 300},
    ],
)
def test_a_bad_grant_is_invalid_input(admin_api, venue, body):
    assert_error(admin_api.post("/admin/venues/chez-a/credits", body), 422, "invalid_input")
    assert balance_of(venue) == 0


@pytest.mark.parametrize("slug", ["nowhere", "bad%20slug"])
def test_granting_to_an_unknown_venue_is_not_found(admin_api, slug):
    assert_error(
        admin_api.post(f"/admin/venues/{slug}/credits", {"amount": 5, "note": "x"}), 404, "not_found"
    )


def test_venue_keys_cannot_create_venues_or_grant(owner_api, venue):
    assert_error(owner_api.post("/admin/venues", {"name": "X", "slug": "x", "credits": 5}), 403, "forbidden")
    assert_error(owner_api.post("/admin/venues/chez-a/credits", {"amount": 5, "note": "x"}), 403, "forbidden")
    assert balance_of(venue) == 0
