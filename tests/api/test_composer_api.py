"""Venue endpoints that make things: images, edits, captions, OCR, embeddings, library, assets."""

from __future__ import annotations

import pytest

from alerts.models import Alert
from composer.models import Asset
from composer.services import EDIT_MESSAGES
from credits.gate import balance_of
from resilience.errors import CAUSE_MESSAGES, USER_MESSAGES, Cause
from tests.api.conftest import assert_error, b64, png_bytes, use_chain

pytestmark = pytest.mark.usefixtures("simulated_chains", "funded")

ASSET_FIELDS = {"id", "kind", "prompt", "style", "text", "image_url", "parent_id", "created_at"}
IMAGES = "/venues/chez-a/images"


def _no_leg_named(response) -> None:
    # The venue never learns which provider, model or chain leg answered.
    text = response.content.decode()
    for word in ("simulated", "Sim ok", "provider", 'model"'):
        assert word not in text, word


def test_it_generates_an_image(owner_api, venue):
    response = owner_api.post(IMAGES, {"prompt": "Tacos on a terrace", "style": "Bright"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"asset", "credits_charged", "balance"}
    assert set(body["asset"]) == ASSET_FIELDS
    assert body["asset"]["kind"] == "image"
    assert body["asset"]["prompt"] == "Tacos on a terrace"
    assert body["asset"]["style"] == "Bright"
    assert body["asset"]["parent_id"] is None
    assert body["credits_charged"] == 4
    assert body["balance"] == 96 == balance_of(venue)
    assert response["X-Request-ID"]
    _no_leg_named(response)
    assert Asset.objects.get(pk=body["asset"]["id"]).venue == venue


def test_the_request_id_of_a_call_is_the_one_its_charge_carries(owner_api):
    response = owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"})
    assert response.status_code == 201
    charge = owner_api.get("/venues/chez-a/credits").json()["entries"][0]
    assert charge["kind"] == "charge"
    assert charge["request_id"] == response["X-Request-ID"]


def test_the_image_url_serves_the_bytes(owner_api):
    asset = owner_api.post(IMAGES, {"prompt": "Soup"}).json()["asset"]
    assert asset["image_url"].endswith(f"/api/v1/venues/chez-a/assets/{asset['id']}/file")
    response = owner_api.get(f"/venues/chez-a/assets/{asset['id']}/file")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize("encode", [b64, lambda data: "data:image/jpeg;base64," + b64(data)])
def test_it_accepts_a_reference_image(staff_api, encode):
    response = staff_api.post(
        IMAGES, {"prompt": "Our burger", "reference_image": encode(png_bytes(fmt="JPEG"))}
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("reference", ["not base64!!", b64(b"GIF89a" + b"\0" * 20), "data:image/png,xyz"])
def test_a_bad_reference_image_is_invalid_input_and_free(owner_api, venue, reference):
    assert_error(owner_api.post(IMAGES, {"prompt": "x", "reference_image": reference}), 422, "invalid_input")
    assert balance_of(venue) == 100


def test_an_oversize_reference_image_is_413_and_free(owner_api, venue):
    big = b64(b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 1024 * 1024 + 1))
    body = assert_error(
        owner_api.post(IMAGES, {"prompt": "x", "reference_image": big}), 413, "payload_too_large"
    )
    assert "10" in body["user_message"]
    assert balance_of(venue) == 100


def test_a_body_over_the_upload_limit_is_413(owner_api):
    huge = "A" * (17 * 1024 * 1024)
    assert_error(owner_api.post(IMAGES, {"prompt": "x", "reference_image": huge}), 413, "payload_too_large")


@pytest.mark.parametrize("raw", ["{", "not json", "[1, 2]", '"prompt"', "null", "\xff\xfe"])
def test_malformed_json_is_invalid_input(owner_api, raw):
    assert_error(owner_api.post(IMAGES, raw=raw), 422, "invalid_input")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"prompt": ""},
        {"prompt": "   "},
        {"prompt": 5},
        {"prompt": "a\x00b"},
        {"prompt": "x", "style": ["list"]},
    ],
)
def test_invalid_bodies_are_invalid_input_and_free(owner_api, venue, body):
    assert_error(owner_api.post(IMAGES, body), 422, "invalid_input")
    assert balance_of(venue) == 100
    assert not Asset.objects.exists()


def test_insufficient_credits_is_402_and_calls_no_provider(owner_api, venue):
    from credits.models import Wallet

    Wallet.objects.filter(venue=venue).update(balance=3)
    body = assert_error(owner_api.post(IMAGES, {"prompt": "x"}), 402, "insufficient_credits")
    assert body["user_message"]
    assert not Alert.objects.exists()
    assert not Asset.objects.exists()


def test_an_exhausted_chain_is_a_calm_503_refunded_and_alerted(owner_api, venue):
    use_chain("image", "sensitive", "gone")
    body = assert_error(owner_api.post(IMAGES, {"prompt": "x"}), 503, "ai_unavailable")
    assert body["user_message"] == CAUSE_MESSAGES[Cause.CONTENT]["image"]  # safety first
    assert "Sim sensitive → safety" in body["technical_detail"]
    assert "Sim gone → model_not_found (404)" in body["technical_detail"]
    assert balance_of(venue) == 100
    alert = Alert.objects.get()
    assert (alert.kind, alert.service, alert.venue) == ("image", "social.generateImage", venue)
    assert alert.request_id == body["request_id"]


def test_it_edits_an_image_into_a_child_asset(owner_api, venue):
    parent = owner_api.post(IMAGES, {"prompt": "Cake"}).json()["asset"]
    response = owner_api.post(f"/venues/chez-a/images/{parent['id']}/edit", {"instruction": "Add candles"})
    assert response.status_code == 201, response.content
    asset = response.json()["asset"]
    assert asset["parent_id"] == parent["id"]
    assert asset["prompt"] == "Cake — edit: Add candles"  # the original's title plus the instruction
    assert balance_of(venue) == 92


def test_edit_of_a_text_asset_or_unknown_id_is_not_found(owner_api):
    text = owner_api.post("/venues/chez-a/text", {"prompt": "Caption"}).json()["asset"]
    for asset_id in (text["id"], 999999, 2**63 + 5):
        assert_error(
            owner_api.post(f"/venues/chez-a/images/{asset_id}/edit", {"instruction": "x"}), 404, "not_found"
        )


def test_edit_of_another_venues_image_is_not_found(owner_api, outsider_api):
    theirs = outsider_api.post("/venues/bar-b/images", {"prompt": "Beer"}).json()["asset"]
    assert_error(
        owner_api.post(f"/venues/chez-a/images/{theirs['id']}/edit", {"instruction": "x"}), 404, "not_found"
    )


def test_it_writes_a_caption(owner_api, venue):
    response = owner_api.post("/venues/chez-a/text", {"prompt": "Friday jazz night", "tone": "playful"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["asset"]["kind"] == "text"
    assert body["asset"]["text"]
    assert body["asset"]["image_url"] is None
    assert body["credits_charged"] == 1
    _no_leg_named(response)


def test_a_failed_caption_is_an_alert_of_kind_chat(owner_api, venue):
    use_chain("chat", "server-error")
    body = assert_error(owner_api.post("/venues/chez-a/text", {"prompt": "x"}), 503, "ai_unavailable")
    assert body["user_message"] == CAUSE_MESSAGES[Cause.OUTAGE]["chat"]
    assert Alert.objects.get().kind == "chat"
    assert Alert.objects.get().service == "social.writeCaption"
    assert balance_of(venue) == 100


@pytest.mark.parametrize("document", [png_bytes(), b"%PDF-1.4\n%fake menu\n"])
def test_it_reads_a_menu(owner_api, document):
    response = owner_api.post("/venues/chez-a/ocr", {"image": b64(document)})
    assert response.status_code == 201, response.content
    assert response.json()["asset"]["kind"] == "ocr"
    assert response.json()["credits_charged"] == 2


def test_ocr_rejects_other_files(owner_api):
    assert_error(owner_api.post("/venues/chez-a/ocr", {"image": b64(b"hello")}), 422, "invalid_input")
    assert_error(owner_api.post("/venues/chez-a/ocr", {}), 422, "invalid_input")


def test_it_embeds_texts_with_the_model_named(owner_api):
    response = owner_api.post("/venues/chez-a/embeddings", {"input": ["tacos", "jazz night"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"model", "vectors", "credits_charged", "balance"}
    assert body["model"] == "ok"
    assert len(body["vectors"]) == 2
    assert all(isinstance(x, float) for x in body["vectors"][0])


@pytest.mark.parametrize("body", [{"input": []}, {"input": "tacos"}, {"input": [""]}, {}])
def test_embeddings_need_a_list_of_texts(owner_api, body):
    assert_error(owner_api.post("/venues/chez-a/embeddings", body), 422, "invalid_input")


def test_the_library_lists_newest_first_and_filters_by_kind(owner_api):
    image = owner_api.post(IMAGES, {"prompt": "Tacos"}).json()["asset"]
    text = owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"}).json()["asset"]
    body = owner_api.get("/venues/chez-a/library").json()
    assert [a["id"] for a in body["items"]] == [text["id"], image["id"]]
    assert body["next_page"] is None
    assert set(body["items"][0]) == ASSET_FIELDS
    only_images = owner_api.get("/venues/chez-a/library", data={"kind": "image"}).json()
    assert [a["id"] for a in only_images["items"]] == [image["id"]]


def test_the_library_searches_and_pages(owner_api):
    for prompt in ("Tacos al pastor", "Jazz night flyer"):
        owner_api.post("/venues/chez-a/text", {"prompt": prompt})
    found = owner_api.get("/venues/chez-a/library", data={"q": "tacos"}).json()
    assert found["items"]
    assert "Tacos" in found["items"][0]["prompt"]
    empty_page = owner_api.get("/venues/chez-a/library", data={"page": 5}).json()
    assert empty_page == {"items": [], "next_page": None, "word_matches": False}


@pytest.mark.parametrize("query", [{"kind": "video"}, {"page": 0}, {"page": "x"}])
def test_bad_library_queries_are_invalid_input(owner_api, query):
    assert_error(owner_api.get("/venues/chez-a/library", data=query), 422, "invalid_input")


def test_an_asset_is_readable_by_its_venue_only(owner_api, outsider_api):
    asset = owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"}).json()["asset"]
    response = owner_api.get(f"/venues/chez-a/assets/{asset['id']}")
    assert response.status_code == 200
    assert response.json() == asset
    # bar-b's key, on its own path, with chez-a's asset id: it does not exist there.
    assert_error(outsider_api.get(f"/venues/bar-b/assets/{asset['id']}"), 404, "not_found")
    assert_error(outsider_api.get(f"/venues/bar-b/assets/{asset['id']}/file"), 404, "not_found")
    assert_error(outsider_api.get(f"/venues/chez-a/assets/{asset['id']}"), 404, "not_found")


def test_a_library_lists_and_searches_its_own_venue_only(owner_api, outsider_api):
    ours = owner_api.post("/venues/chez-a/text", {"prompt": "Tacos al pastor"}).json()["asset"]
    theirs = outsider_api.post("/venues/bar-b/text", {"prompt": "Tacos and beer"}).json()["asset"]
    for query in ({}, {"q": "tacos"}, {"q": "tacos", "kind": "text"}):
        mine = owner_api.get("/venues/chez-a/library", data=query).json()["items"]
        assert [a["id"] for a in mine] == [ours["id"]], query
        other = outsider_api.get("/venues/bar-b/library", data=query).json()["items"]
        assert [a["id"] for a in other] == [theirs["id"]], query


def test_the_file_of_a_text_asset_is_not_found(owner_api):
    asset = owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"}).json()["asset"]
    assert_error(owner_api.get(f"/venues/chez-a/assets/{asset['id']}/file"), 404, "not_found")


def test_another_venues_key_cannot_generate_here(outsider_api, venue):
    assert_error(outsider_api.post(IMAGES, {"prompt": "x"}), 404, "not_found")
    assert balance_of(venue) == 100


@pytest.mark.parametrize("raw", ['{"prompt": "tacos \\ud800"}', '{"prompt": "x", "style": "\\udfff"}'])
def test_lone_surrogates_are_invalid_input_not_a_database_error(owner_api, raw):
    assert_error(owner_api.post(IMAGES, raw=raw), 422, "invalid_input")


def test_the_library_page_costs_a_fixed_number_of_queries(owner_api, django_assert_max_num_queries):
    for prompt in ("One", "Two", "Three"):
        owner_api.post(IMAGES, {"prompt": prompt})
    with django_assert_max_num_queries(6):
        assert len(owner_api.get("/venues/chez-a/library").json()["items"]) == 3


def test_an_oversize_menu_is_413(owner_api, venue):
    big = b64(b"%PDF-1.4\n" + b"\0" * (10 * 1024 * 1024))
    assert_error(owner_api.post("/venues/chez-a/ocr", {"image": big}), 413, "payload_too_large")
    assert balance_of(venue) == 100


def test_failed_embeddings_are_a_503_alert_of_service_api_embeddings(owner_api, venue):
    use_chain("embedding", "gone")
    body = assert_error(owner_api.post("/venues/chez-a/embeddings", {"input": ["x"]}), 503, "ai_unavailable")
    assert body["user_message"] == USER_MESSAGES["embedding"]
    alert = Alert.objects.get()
    assert (alert.kind, alert.service) == ("embedding", "api.embeddings")
    assert balance_of(venue) == 100


def test_a_failed_edit_is_refunded_and_alerted_as_editor_edit_image(owner_api, venue):
    parent = owner_api.post(IMAGES, {"prompt": "Cake"}).json()["asset"]
    use_chain("image", "server-error")
    body = assert_error(
        owner_api.post(f"/venues/chez-a/images/{parent['id']}/edit", {"instruction": "x"}),
        503,
        "ai_unavailable",
    )
    # The editor's own copy for an outage (the image chain's speaks of generating and of styles).
    assert body["user_message"] == EDIT_MESSAGES[Cause.OUTAGE]
    assert Alert.objects.get().service == "editor.editImage"
    assert balance_of(venue) == 96


def test_a_failed_menu_import_is_a_503_alert_of_kind_ocr(owner_api, venue):
    use_chain("ocr", "server-error")
    body = assert_error(
        owner_api.post("/venues/chez-a/ocr", {"image": b64(png_bytes())}), 503, "ai_unavailable"
    )
    assert body["user_message"] == CAUSE_MESSAGES[Cause.OUTAGE]["ocr"]
    alert = Alert.objects.get()
    assert (alert.kind, alert.service, alert.venue) == ("ocr", "menu.importFromPhoto", venue)
    assert balance_of(venue) == 100
    assert not Asset.objects.exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (IMAGES, {"prompt": "Tacos"}),
        ("/venues/chez-a/images/{image}/edit", {"instruction": "Brighter"}),
        ("/venues/chez-a/text", {"prompt": "Jazz night"}),
        ("/venues/chez-a/ocr", {"image": b64(png_bytes())}),
    ],
)
def test_every_paid_endpoint_is_402_when_the_venue_cannot_pay(owner_api, venue, path, body):
    from credits.gate import adjust

    image = owner_api.post(IMAGES, {"prompt": "Cake"}).json()["asset"]["id"]
    adjust(venue=venue, amount=-balance_of(venue), note="spent")
    assets_before = Asset.objects.count()
    error = assert_error(owner_api.post(path.format(image=image), body), 402, "insufficient_credits")
    assert error["user_message"]
    assert balance_of(venue) == 0
    assert Asset.objects.count() == assets_before
    assert not Alert.objects.exists()  # no provider was called, so nothing failed


def test_an_idempotency_key_makes_a_retry_safe(owner_api, venue):
    key = {"Idempotency-Key": "0b7c6f1e-retry-safe"}
    first = owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"}, headers=key)
    assert first.status_code == 201, first.content
    assert first["X-Request-ID"] == key["Idempotency-Key"]
    again = assert_error(
        owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"}, headers=key), 409, "conflict"
    )
    assert "new key" in again["user_message"]
    assert balance_of(venue) == 99
    assert Asset.objects.count() == 1
    # Without a key, or with another one, every call is its own.
    assert owner_api.post("/venues/chez-a/text", {"prompt": "Jazz"}).status_code == 201
    assert (
        owner_api.post(
            "/venues/chez-a/text", {"prompt": "Jazz"}, headers={"Idempotency-Key": "another-key-1"}
        ).status_code
        == 201
    )
    assert balance_of(venue) == 97


def test_a_failed_call_keeps_its_idempotency_key_used(owner_api, venue):
    use_chain("image", "gone")
    key = {"Idempotency-Key": "failed-call-0001"}
    assert_error(owner_api.post(IMAGES, {"prompt": "x"}, headers=key), 503, "ai_unavailable")
    assert_error(owner_api.post(IMAGES, {"prompt": "x"}, headers=key), 409, "conflict")
    assert balance_of(venue) == 100
    assert Alert.objects.count() == 1  # the repeat ran nothing


def test_idempotency_keys_belong_to_one_venue(owner_api, outsider_api, venue, other_venue):
    key = {"Idempotency-Key": "shared-key-0001"}
    assert owner_api.post("/venues/chez-a/text", {"prompt": "x"}, headers=key).status_code == 201
    assert outsider_api.post("/venues/bar-b/text", {"prompt": "x"}, headers=key).status_code == 201


@pytest.mark.parametrize("value", ["short", "has space in it", "x" * 65, "ünïcödé-key-1"])
def test_a_malformed_idempotency_key_is_invalid_input_and_free(owner_api, venue, value):
    body = assert_error(
        owner_api.post("/venues/chez-a/text", {"prompt": "x"}, headers={"Idempotency-Key": value}),
        422,
        "invalid_input",
    )
    assert "Idempotency-Key" in body["technical_detail"]
    assert balance_of(venue) == 100


def test_the_schema_documents_the_idempotency_key(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/images", "/images/{asset_id}/edit", "/text", "/ocr"):
        operation = paths[f"/api/v1/venues/{{slug}}{path}"]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"] if p["in"] == "header"], path
        assert "409" in operation["responses"], path


@pytest.mark.parametrize("declared", ["image/png", "image/gif", "text/plain"])
def test_a_data_url_is_judged_by_its_bytes_not_its_declared_type(owner_api, venue, declared):
    gif = f"data:{declared};base64,{b64(b'GIF89a' + b'\0' * 64)}"
    assert_error(owner_api.post(IMAGES, {"prompt": "x", "reference_image": gif}), 422, "invalid_input")
    png = f"data:{declared};base64,{b64(png_bytes())}"
    assert owner_api.post(IMAGES, {"prompt": "x", "reference_image": png}).status_code == 201
    assert balance_of(venue) == 96


@pytest.mark.parametrize("path, field", [(IMAGES, "reference_image"), ("/venues/chez-a/ocr", "image")])
def test_an_oversize_upload_of_the_wrong_type_is_413_not_422(owner_api, venue, path, field):
    # The size is checked before the type: an 11 MiB GIF is "too large", not "not an image".
    big = "data:image/gif;base64," + b64(b"GIF89a" + b"\0" * (11 * 1024 * 1024))
    assert_error(owner_api.post(path, {"prompt": "x", field: big}), 413, "payload_too_large")
    assert balance_of(venue) == 100
