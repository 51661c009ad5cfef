"""resilience.primaries.save_primaries: the one write path for a venue's AI settings."""

from __future__ import annotations

import pytest

from bitethemenu.errors import InvalidInput
from bitethemenu.models import Venue
from resilience.models import ChainCandidate, VenuePrimary
from resilience.primaries import PrimariesInvalid, clear_primary, primaries_for, save_primaries, set_primary
from resilience.validation import LABEL_MAX_LENGTH, MODEL_ID_MAX_LENGTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def venue():
    return Venue.objects.create(name="Chez A", slug="chez-a")


def _rows(venue):
    return {kind: (row.provider, row.model) if row else None for kind, row in primaries_for(venue).items()}


def test_it_sets_clears_and_leaves_kinds_alone(venue):
    set_primary(venue=venue, kind="ocr", provider="mistral", model="mistral-ocr-latest")
    save_primaries(venue=venue, choices={"chat": ("openai", " gpt-4o "), "ocr": None})
    assert _rows(venue) == {"image": None, "chat": ("openai", "gpt-4o"), "ocr": None, "embedding": None}


def test_a_refused_kind_saves_nothing_and_names_every_refused_kind(venue):
    with pytest.raises(PrimariesInvalid) as refused:
        save_primaries(
            venue=venue,
            choices={"chat": ("openai", "gpt-4o"), "image": ("openai", "x\ny"), "ocr": ("nope", "m")},
        )
    assert set(refused.value.errors) == {"image", "ocr"}
    assert isinstance(refused.value, InvalidInput) and refused.value.http_status == 422
    assert not VenuePrimary.objects.exists()


@pytest.mark.parametrize("model", ["m" * 201, "a\nb", "a\rb", "a\tb", "a\x00b", "a\u2029b", "a\u202eb", "  "])
def test_set_primary_refuses_what_no_model_id_holds(venue, model):
    with pytest.raises(InvalidInput):
        set_primary(venue=venue, kind="chat", provider="openai", model=model)
    assert not VenuePrimary.objects.exists()


def test_clear_primary_goes_through_the_same_path(venue):
    set_primary(venue=venue, kind="chat", provider="openai", model="gpt-4o")
    clear_primary(venue=venue, kind="chat")
    assert not VenuePrimary.objects.exists()


def test_the_limits_are_the_columns():
    assert VenuePrimary._meta.get_field("model").max_length == MODEL_ID_MAX_LENGTH
    assert ChainCandidate._meta.get_field("model").max_length == MODEL_ID_MAX_LENGTH
    assert ChainCandidate._meta.get_field("label").max_length == LABEL_MAX_LENGTH


# --- Every caller goes through save_primaries ------------------------------------------------------


@pytest.fixture
def spy(monkeypatch):
    from resilience import primaries

    calls: list[dict] = []
    real = primaries.save_primaries

    def _spy(**kwargs):
        calls.append(kwargs["choices"])
        return real(**kwargs)

    monkeypatch.setattr(primaries, "save_primaries", _spy)
    monkeypatch.setattr("resilience.api.save_primaries", _spy)
    return calls


def test_the_ai_settings_page_saves_through_it(client, staff, spy):
    client.force_login(staff)
    response = client.post(
        "/settings/ai/", {"image": "", "chat": "openai:gpt-4o", "ocr": "", "embedding": ""}
    )
    assert response.status_code == 200
    assert spy == [{"image": None, "chat": ("openai", "gpt-4o"), "ocr": None, "embedding": None}]


def test_the_api_saves_through_it(client, staff, venue, spy):
    from bitethemenu.models import ApiKey

    _, raw = ApiKey.mint(owner=staff, venue=venue)
    response = client.put(
        "/api/v1/venues/chez-a/ai-settings",
        {"chat": {"provider": "openai", "model": "gpt-4o"}, "ocr": None},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 200, response.content
    assert spy == [{"chat": ("openai", "gpt-4o"), "ocr": None}]
