from __future__ import annotations

import base64

import pytest

from alerts.models import Alert
from bitethemenu.errors import FriendlyError
from composer import services
from composer.models import Asset, AssetEmbedding
from credits import gate
from credits.models import LedgerEntry
from resilience.errors import Cause, ChainExhausted
from tests.composer.conftest import START_BALANCE
from tests.composer.images import PDF_BYTES, image_bytes

pytestmark = pytest.mark.django_db


def _charges(venue):
    return LedgerEntry.objects.filter(venue=venue, kind=LedgerEntry.Kind.CHARGE)


def test_it_generates_an_image_charges_once_and_indexes_it(funded, staff, simulated):
    result = services.generate_image(
        venue=funded, user=staff, prompt="Tagliatelle with mushrooms", style="Rustic table"
    )
    asset = result.asset
    assert asset.kind == Asset.Kind.IMAGE and asset.venue == funded and asset.created_by == staff
    assert asset.image_mime == "image/png" and asset.image.read().startswith(b"\x89PNG")
    assert (asset.prompt, asset.style) == ("Tagliatelle with mushrooms", "Rustic table")
    assert len(asset.request_id) == 32
    cost = gate.cost_of("image")
    assert result.credits_charged == cost
    assert result.balance == START_BALANCE - cost == gate.balance_of(funded)
    assert _charges(funded).get().request_id == asset.request_id
    assert AssetEmbedding.objects.filter(asset=asset, model="ok").exists()


@pytest.mark.parametrize("prompt", ["", "   ", None])
def test_an_empty_prompt_is_invalid_and_charges_nothing(funded, staff, simulated, prompt):
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=funded, user=staff, prompt=prompt)
    assert caught.value.code == "invalid_input" and caught.value.http_status == 422
    assert not _charges(funded).exists() and not Asset.objects.exists()
    assert gate.balance_of(funded) == START_BALANCE


def test_a_bad_reference_is_refused_before_charging(funded, staff, simulated, settings):
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=funded, user=staff, prompt="Soup", reference=b"not an image")
    assert caught.value.code == "invalid_input"
    settings.MAX_IMAGE_BYTES = 100
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(
            venue=funded, user=staff, prompt="Soup", reference=base64.b64encode(b"x" * 200).decode()
        )
    assert caught.value.code == "payload_too_large"
    assert not _charges(funded).exists() and not Asset.objects.exists()


def test_a_reference_photo_is_accepted_as_a_data_url(funded, staff, simulated):
    photo = "data:image/jpeg;base64," + base64.b64encode(image_bytes("JPEG")).decode()
    result = services.generate_image(venue=funded, user=staff, prompt="Our burger", reference=photo)
    assert result.asset.kind == Asset.Kind.IMAGE


def test_an_exhausted_chain_refunds_alerts_and_carries_the_request_id(funded, staff, simulated, chain):
    chain("image", "gone", "sensitive")
    with pytest.raises(ChainExhausted) as caught:
        services.generate_image(venue=funded, user=staff, prompt="Pasta")
    error = caught.value
    assert error.code == "ai_unavailable" and error.http_status == 503
    assert "couldn't generate your image" in error.user_message
    assert len(error.request_id) == 32
    assert gate.balance_of(funded) == START_BALANCE
    refund = LedgerEntry.objects.get(venue=funded, kind=LedgerEntry.Kind.REFUND)
    assert refund.request_id == error.request_id
    alert = Alert.objects.get()
    assert (alert.kind, alert.service, alert.venue) == ("image", "social.generateImage", funded)
    assert not Asset.objects.exists()


def test_out_of_credits_calls_nothing_and_writes_nothing(venue, staff, simulated):
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=venue, user=staff, prompt="Pasta")
    assert caught.value.code == "insufficient_credits" and caught.value.http_status == 402
    assert not Asset.objects.exists() and not Alert.objects.exists()


def test_a_failed_index_never_fails_the_generation(funded, staff, simulated, chain):
    chain("embedding", "gone")
    result = services.generate_image(venue=funded, user=staff, prompt="Pasta")
    assert Asset.objects.get() == result.asset
    assert not AssetEmbedding.objects.exists()


def test_it_edits_an_image_into_a_new_version(funded, staff, simulated):
    original = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    result = services.edit_image(venue=funded, user=staff, asset=original, instruction="Add basil")
    assert result.asset.parent == original and result.asset.prompt == "Pasta — edit: Add basil"
    assert result.asset.pk != original.pk and result.asset.image.name != original.image.name
    assert result.balance == START_BALANCE - 2 * gate.cost_of("image")


def test_it_refuses_to_edit_another_venues_image(funded, other_venue, staff, outsider, simulated):
    gate.grant(venue=other_venue, amount=50, note="test")
    theirs = services.generate_image(venue=other_venue, user=outsider, prompt="Their pasta").asset
    with pytest.raises(FriendlyError) as caught:
        services.edit_image(venue=funded, user=staff, asset=theirs, instruction="Mine now")
    assert caught.value.code == "not_found"
    assert not _charges(funded).exists()


def test_an_empty_instruction_is_invalid(funded, staff, simulated):
    original = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    with pytest.raises(FriendlyError) as caught:
        services.edit_image(venue=funded, user=staff, asset=original, instruction=" ")
    assert caught.value.code == "invalid_input"
    assert _charges(funded).count() == 1


def test_an_edit_that_exhausts_alerts_as_the_editor(funded, staff, simulated, chain):
    original = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    chain("image", "gone")
    with pytest.raises(ChainExhausted):
        services.edit_image(venue=funded, user=staff, asset=original, instruction="Add basil")
    assert Alert.objects.get().service == "editor.editImage"
    assert gate.balance_of(funded) == START_BALANCE - gate.cost_of("image")


def test_it_writes_a_caption_as_a_text_asset(funded, staff, simulated):
    result = services.write_caption(venue=funded, user=staff, prompt="Autumn menu launch", tone="Playful")
    assert result.asset.kind == Asset.Kind.TEXT
    assert "Autumn menu launch" in result.asset.text
    assert result.credits_charged == gate.cost_of("chat")


def test_a_caption_chain_exhaustion_is_a_chat_alert(funded, staff, simulated, chain):
    chain("chat", "gone")
    with pytest.raises(ChainExhausted) as caught:
        services.write_caption(venue=funded, user=staff, prompt="Autumn")
    assert "nothing to change on your side" in caught.value.user_message  # a retired model: ours
    assert (Alert.objects.get().kind, Alert.objects.get().service) == ("chat", "social.writeCaption")


@pytest.mark.parametrize(
    ("document", "mime"), [(image_bytes("PNG"), "image/png"), (PDF_BYTES, "application/pdf")]
)
def test_it_imports_a_menu_from_a_photo_or_pdf(funded, staff, simulated, document, mime):
    result = services.import_menu(venue=funded, user=staff, document=document, mime=mime)
    assert result.asset.kind == Asset.Kind.OCR and result.asset.text.startswith("MENU")
    assert result.credits_charged == gate.cost_of("ocr")


def test_a_menu_that_is_not_a_document_is_refused(funded, staff, simulated):
    with pytest.raises(FriendlyError) as caught:
        services.import_menu(venue=funded, user=staff, document=b"hello", mime="text/plain")
    assert caught.value.code == "invalid_input"
    assert not _charges(funded).exists()


def test_it_embeds_texts_with_one_model(funded, staff, simulated):
    result = services.embed_texts(venue=funded, user=staff, inputs=["pasta", "wine"])
    assert result.model == "ok" and len(result.vectors) == 2 and len(result.vectors[0]) == 256


@pytest.mark.parametrize("inputs", [[], "pasta", [""], ["ok", 3]])
def test_it_refuses_bad_embedding_inputs(funded, staff, simulated, inputs):
    with pytest.raises(FriendlyError) as caught:
        services.embed_texts(venue=funded, user=staff, inputs=inputs)
    assert caught.value.code == "invalid_input"


def _make(venue, kind, prompt, text=""):
    return Asset.objects.create(venue=venue, kind=kind, prompt=prompt, text=text)


def test_the_library_lists_newest_first_by_kind_and_pages(funded, simulated):
    made = [_make(funded, Asset.Kind.TEXT, f"caption {i}", "text") for i in range(5)]
    _make(funded, Asset.Kind.OCR, "Menu import", "MENU")
    first = services.search_library(venue=funded, kind="text", page=1, page_size=2)
    assert first.items == [made[4], made[3]] and first.next_page == 2
    last = services.search_library(venue=funded, kind="text", page=3, page_size=2)
    assert last.items == [made[0]] and last.next_page is None
    assert len(services.search_library(venue=funded).items) == 6


def test_the_library_never_shows_another_venue(funded, other_venue, simulated):
    _make(other_venue, Asset.Kind.TEXT, "secret pasta", "pasta")
    assert services.search_library(venue=funded).items == []
    assert services.search_library(venue=funded, query="pasta").items == []


def test_an_unknown_kind_is_invalid(funded):
    with pytest.raises(FriendlyError):
        services.search_library(venue=funded, kind="video")


def test_search_is_by_meaning_and_indexes_what_it_has_not_seen(funded, simulated):
    soup = _make(funded, Asset.Kind.TEXT, "tomato soup special", "Hot tomato soup tonight")
    _make(funded, Asset.Kind.TEXT, "wine list", "Red and white wines")
    result = services.search_library(venue=funded, query="soup")
    assert result.items == [soup] and not result.word_matches
    assert AssetEmbedding.objects.filter(model="ok").count() == 2


def test_vectors_of_another_model_are_never_compared(funded, simulated):
    soup = _make(funded, Asset.Kind.TEXT, "tomato soup", "soup")
    # A stale vector from a model the chain no longer answers with: ignored, then re-indexed.
    AssetEmbedding.objects.create(asset=soup, model="retired-model", vector=[1.0, 0.0])
    result = services.search_library(venue=funded, query="soup")
    assert result.items == [soup]
    assert set(AssetEmbedding.objects.values_list("model", flat=True)) == {"retired-model", "ok"}


def test_search_falls_back_to_word_matches_when_embeddings_are_down(funded, simulated, chain):
    chain("embedding", "gone")
    soup = _make(funded, Asset.Kind.TEXT, "Tomato SOUP", "")
    _make(funded, Asset.Kind.TEXT, "wine", "red")
    result = services.search_library(venue=funded, query="soup")
    assert result.items == [soup] and result.word_matches
    assert Alert.objects.filter(kind="embedding", service="library.search").exists()


def test_an_unexpected_failure_is_calm_refunded_and_logged(funded, staff, simulated, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services.cascade, "run", broken)
    with pytest.raises(FriendlyError) as caught:
        services.write_caption(venue=funded, user=staff, prompt="Autumn")
    assert caught.value.code == "ai_unavailable" and caught.value.http_status == 503
    assert "boom" not in caught.value.technical_detail and caught.value.request_id
    assert gate.balance_of(funded) == START_BALANCE
    assert "social.writeCaption failed unexpectedly" in caplog.text


# --- Indexing and search when no embedding candidate is ready ------------------------------------


@pytest.fixture
def no_embedding_keys(chain):
    """Images and captions work; the embedding chain is the seeded default, whose keys are unset."""
    from resilience.models import ChainCandidate

    chain("image", "ok")
    chain("chat", "ok")
    assert ChainCandidate.objects.filter(kind="embedding", enabled=True).exists()
    assert not services.embedding_ready(None)


def test_indexing_skips_quietly_when_no_embedding_candidate_is_ready(funded, staff, no_embedding_keys):
    result = services.generate_image(venue=funded, user=staff, prompt="Pasta")
    assert Asset.objects.get() == result.asset
    assert not AssetEmbedding.objects.exists()
    assert not Alert.objects.exists()  # nothing was tried, so nothing to alert about


def test_search_goes_straight_to_words_when_no_embedding_candidate_is_ready(funded, no_embedding_keys):
    soup = _make(funded, Asset.Kind.TEXT, "tomato soup", "Hot soup")
    result = services.search_library(venue=funded, query="soup")
    assert result.items == [soup] and result.word_matches
    assert not Alert.objects.exists() and not AssetEmbedding.objects.exists()


def test_a_ready_embedding_candidate_that_fails_still_alerts_when_indexing(funded, staff, simulated, chain):
    chain("embedding", "gone")
    services.generate_image(venue=funded, user=staff, prompt="Pasta")
    alert = Alert.objects.get()
    assert (alert.kind, alert.service, alert.venue) == ("embedding", "library.search", funded)


def test_a_venue_primary_makes_embeddings_ready(funded, staff, no_embedding_keys):
    from resilience import primaries

    primaries.set_primary(venue=funded, kind="embedding", provider="simulated", model="ok")
    assert services.embedding_ready(funded)
    asset = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    assert AssetEmbedding.objects.filter(asset=asset, model="ok").exists()
    assert not Alert.objects.exists()


def test_a_crash_while_indexing_never_fails_the_generation(funded, staff, simulated, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_store_vectors", broken)
    result = services.generate_image(venue=funded, user=staff, prompt="Pasta")
    assert Asset.objects.get() == result.asset and result.balance == START_BALANCE - gate.cost_of("image")
    assert f"indexing asset {result.asset.pk} failed" in caplog.text


# --- The caller's request id: an idempotency key -------------------------------------------------


def test_a_repeated_request_id_is_refused_without_a_charge_or_a_call(funded, staff, simulated, monkeypatch):
    first = services.write_caption(venue=funded, user=staff, prompt="Autumn", request_id="form-1234")
    calls = []
    monkeypatch.setattr(services.cascade, "run", lambda *a, **k: calls.append(a))
    with pytest.raises(FriendlyError) as caught:
        services.write_caption(venue=funded, user=staff, prompt="Autumn", request_id="form-1234")
    error = caught.value
    assert (error.code, error.http_status, error.request_id) == ("conflict", 409, "form-1234")
    assert "only doing it once" in error.user_message
    assert calls == [] and _charges(funded).count() == 1 and Asset.objects.get() == first.asset
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFUND).exists()  # the first stays paid
    assert gate.balance_of(funded) == START_BALANCE - gate.cost_of("chat")


def test_a_failed_request_id_stays_used(funded, staff, simulated, chain):
    chain("chat", "gone")
    with pytest.raises(ChainExhausted):
        services.write_caption(venue=funded, user=staff, prompt="Autumn", request_id="form-5678")
    chain("chat", "ok")
    with pytest.raises(FriendlyError) as caught:
        services.write_caption(venue=funded, user=staff, prompt="Autumn", request_id="form-5678")
    assert caught.value.code == "conflict" and gate.balance_of(funded) == START_BALANCE


@pytest.mark.parametrize("request_id", ["short", "x" * 65, "../etc", "with space", 42])
def test_a_malformed_request_id_is_invalid_and_charges_nothing(funded, staff, simulated, request_id):
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=funded, user=staff, prompt="Pasta", request_id=request_id)
    assert caught.value.code == "invalid_input"
    assert not _charges(funded).exists() and not Asset.objects.exists()


def test_an_exhausted_edit_speaks_of_the_edit_not_of_styles(funded, staff, simulated, chain):
    original = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    chain("image", "gone")
    with pytest.raises(ChainExhausted) as caught:
        services.edit_image(venue=funded, user=staff, asset=original, instruction="Add basil")
    # A retired model is our configuration: the editor's copy for that cause, never the chain's "styles".
    assert caught.value.user_message == services.EDIT_MESSAGES[Cause.CONFIGURATION]
    assert caught.value.as_dict()["user_message"] == services.EDIT_MESSAGES[Cause.CONFIGURATION]
    assert "style" not in caught.value.user_message


def test_a_refused_edit_asks_to_describe_the_change_another_way(funded, staff, simulated, chain):
    original = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    chain("image", "sensitive")
    with pytest.raises(ChainExhausted) as caught:
        services.edit_image(venue=funded, user=staff, asset=original, instruction="Add basil")
    assert caught.value.user_message == services.EDIT_UNAVAILABLE_MESSAGE


# --- What the provider sends back, and what is stored, is not the operator's upload -------------


def _answer_with_image(monkeypatch, image: bytes) -> None:
    from resilience.types import AIOutput, CascadeResult

    monkeypatch.setattr(
        services.cascade,
        "run",
        lambda *a, **k: CascadeResult(
            output=AIOutput(model="m", image=image), attempts=(), answered_by="leg"
        ),
    )


@pytest.mark.parametrize("answer", [image_bytes("GIF"), b"\x89PNG\r\n\x1a\n truncated", b"<html>oops</html>"])
def test_an_unusable_image_answer_is_ai_unavailable_and_refunded(
    funded, staff, simulated, monkeypatch, answer
):
    _answer_with_image(monkeypatch, answer)
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=funded, user=staff, prompt="Pasta")
    error = caught.value
    assert (error.code, error.http_status) == ("ai_unavailable", 503)
    assert error.user_message.startswith("We couldn't generate your image right now.")
    assert "upload" not in error.user_message.lower() and error.request_id
    assert gate.balance_of(funded) == START_BALANCE and not Asset.objects.exists()


def test_an_oversized_image_answer_is_ai_unavailable_too(funded, staff, simulated, monkeypatch, settings):
    _answer_with_image(monkeypatch, image_bytes("PNG", size=(64, 64)))
    settings.MAX_IMAGE_BYTES = 50
    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=funded, user=staff, prompt="Pasta")
    assert caught.value.code == "ai_unavailable" and gate.balance_of(funded) == START_BALANCE


def test_editing_an_image_whose_stored_file_is_damaged_is_calm_and_free(funded, staff, simulated):
    original = services.generate_image(venue=funded, user=staff, prompt="Pasta").asset
    with open(original.image.path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n damaged")
    with pytest.raises(FriendlyError) as caught:
        services.edit_image(venue=funded, user=staff, asset=original, instruction="Add basil")
    assert (caught.value.code, caught.value.user_message) == ("not_found", services.UNREADABLE_IMAGE_MESSAGE)
    assert _charges(funded).count() == 1  # only the original
