from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from alerts.models import Alert
from composer import services
from composer.models import Asset
from credits import gate
from credits.models import LedgerEntry
from resilience.models import VenuePrimary
from tests.composer.conftest import START_BALANCE
from tests.composer.images import PDF_BYTES, image_bytes

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _charges(venue):
    return LedgerEntry.objects.filter(venue=venue, kind=LedgerEntry.Kind.CHARGE)


@pytest.fixture
def image(funded, staff, simulated):
    return services.generate_image(venue=funded, user=staff, prompt="Pasta").asset


@pytest.fixture
def as_staff(client, staff):
    client.force_login(staff)
    return client


# --- Access -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/composer/", "/library/", "/menu/import/", "/settings/ai/"])
def test_pages_need_a_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("url", ["/composer/", "/library/", "/menu/import/", "/settings/ai/"])
def test_members_see_the_pages(as_staff, funded, url):
    response = as_staff.get(url)
    assert response.status_code == 200
    assert b"<html" in response.content and b'id="credit-balance"' in response.content


@pytest.mark.parametrize(
    ("persona", "status"), [("staff", 200), ("owner", 200), ("outsider", 404), ("superadmin", 200)]
)
@pytest.mark.parametrize("path", ["edit/", "image/", "download/"])
def test_only_members_of_the_assets_venue_reach_it(client, request, image, persona, status, path):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(f"/library/{image.pk}/{path}")
    assert response.status_code == status


def test_an_outsider_cannot_save_an_edit_of_another_venues_image(client, outsider, image):
    client.force_login(outsider)
    response = client.post(f"/library/{image.pk}/edit/", {"instruction": "Mine"}, **HTMX)
    assert response.status_code == 404
    assert Asset.objects.count() == 1


def test_the_download_is_the_image_file_as_an_attachment(as_staff, image):
    response = as_staff.get(f"/library/{image.pk}/download/")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_text_assets_have_no_file(as_staff, funded):
    text = Asset.objects.create(venue=funded, kind=Asset.Kind.TEXT, prompt="p", text="t")
    assert as_staff.get(f"/library/{text.pk}/download/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/composer/image/"),
        ("get", "/composer/caption/"),
        ("post", "/composer/"),
        ("post", "/library/"),
    ],
)
def test_it_rejects_the_wrong_method(as_staff, funded, method, url):
    assert getattr(as_staff, method)(url).status_code == 405


# --- Composer -----------------------------------------------------------------------------------


def test_generating_over_htmx_returns_the_fragment_and_the_new_balance(as_staff, funded, simulated):
    response = as_staff.post("/composer/image/", {"prompt": "Pasta", "style": "Flat lay"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    asset = Asset.objects.get()
    assert f'src="/library/{asset.pk}/image/"' in body
    balance = START_BALANCE - gate.cost_of("image")
    assert f'hx-swap-oob="innerHTML:#credit-balance">{balance} credits<' in body
    assert "HX-Request" in response["Vary"]
    assert "Sim ok" not in body and "simulated" not in body.lower()  # never which leg answered


def test_generating_without_htmx_renders_the_whole_page(as_staff, funded, simulated):
    response = as_staff.post("/composer/image/", {"prompt": "Pasta"})
    assert b"<html" in response.content and Asset.objects.count() == 1
    assert b"hx-swap-oob" not in response.content


def test_writing_a_caption_shows_it(as_staff, funded, simulated):
    response = as_staff.post("/composer/caption/", {"prompt": "Autumn menu", "tone": "Warm"}, **HTMX)
    assert "Autumn menu" in response.content.decode()
    assert Asset.objects.get().kind == Asset.Kind.TEXT


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prompt": ""}, "Describe what you"),
        (
            {"prompt": "Pasta", "reference": SimpleUploadedFile("x.txt", b"hello, not an image")},
            "PNG, JPEG or WebP",
        ),
        (
            {"prompt": "Pasta", "reference": SimpleUploadedFile("x.gif", image_bytes("GIF"))},
            "PNG, JPEG or WebP",
        ),
        ({"prompt": "Pasta", "style": "Neon"}, "Pick one of the styles"),
    ],
)
def test_bad_input_is_a_calm_form_error_and_charges_nothing(as_staff, funded, simulated, data, message):
    response = as_staff.post("/composer/image/", data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and message in body and 'class="form-error"' in body
    assert "banner" not in body
    assert not Asset.objects.exists() and not _charges(funded).exists()
    assert gate.balance_of(funded) == START_BALANCE


def test_a_too_large_upload_is_refused_before_its_type(as_staff, funded, simulated, settings):
    settings.MAX_IMAGE_BYTES = 1000
    upload = SimpleUploadedFile("big.txt", b"x" * 1001)
    response = as_staff.post("/composer/image/", {"prompt": "Pasta", "reference": upload}, **HTMX)
    assert "too large" in response.content.decode()
    assert not _charges(funded).exists()


def test_an_empty_caption_prompt_is_a_form_error(as_staff, funded, simulated):
    response = as_staff.post("/composer/caption/", {"prompt": "  "}, **HTMX)
    assert "Tell us what the post is about" in response.content.decode()
    assert not _charges(funded).exists()


def test_out_of_credits_is_a_calm_banner(as_staff, venue, simulated):
    response = as_staff.post("/composer/image/", {"prompt": "Pasta"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "banner-amber" in body and "out of credits" in body


# --- The friendly error banner -------------------------------------------------------------------

SECRETS = {
    "OPENAI_API_KEY": "sk-test-SECRET-openai",
    "KIE_API_KEY": "kie-SECRET-key",
    "SLACK_ALERTS_WEBHOOK_URL": "https://hooks.slack.test/services/T000/B000/SECRETWEBHOOK",
}


def test_an_exhausted_chain_shows_the_amber_banner_and_refunds(
    as_staff, funded, simulated, chain, monkeypatch
):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    chain("image", "gone", "sensitive")
    response = as_staff.post("/composer/image/", {"prompt": "Meat pasta"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'class="banner banner-amber friendly-error"' in body and 'role="status"' in body
    assert "banner-red" not in body and 'role="alert"' not in body.split("friendly-error")[1]
    assert "We couldn&#x27;t generate your image right now." in body
    assert "<details" in body and "<summary>Show technical details</summary>" in body
    alert = Alert.objects.get()
    assert f'Request ID: <span class="request-id">{alert.request_id}</span>' in body
    assert "social.generateImage" in body  # the technical detail, for support tickets
    for secret in SECRETS.values():
        assert secret not in body
    assert "Authorization" not in body and "Bearer" not in body
    assert gate.balance_of(funded) == START_BALANCE
    assert f"{START_BALANCE} credits" in body
    assert not Asset.objects.exists()


def test_the_banner_has_a_red_variant_only_on_request():
    from django.template.loader import render_to_string

    from bitethemenu.errors import FriendlyError

    error = FriendlyError("x", "Calm & clear", "detail <b>", request_id="r1")
    amber = render_to_string("components/friendly_error.html", {"error": error})
    red = render_to_string("components/friendly_error.html", {"error": error, "tone": "red"})
    assert "banner-amber" in amber and "banner-red" not in amber
    assert "banner-red" in red and 'role="alert"' in red
    assert "Calm &amp; clear" in amber and "detail &lt;b&gt;" in amber and "Request ID:" in amber
    assert render_to_string("components/friendly_error.html", {"error": None}).strip() == ""


def test_a_failed_full_page_post_also_shows_the_banner(as_staff, funded, simulated, chain):
    chain("chat", "gone")
    response = as_staff.post("/composer/caption/", {"prompt": "Autumn"})
    body = response.content.decode()
    assert "<html" in body and "banner-amber" in body and "nothing to change on your side" in body


# --- Editor -------------------------------------------------------------------------------------


def test_saving_an_edit_makes_a_linked_version(as_staff, image):
    page = as_staff.get(f"/library/{image.pk}/edit/")
    assert f'src="/library/{image.pk}/image/"' in page.content.decode()
    response = as_staff.post(f"/library/{image.pk}/edit/", {"instruction": "Add basil"}, **HTMX)
    body = response.content.decode()
    version = Asset.objects.get(parent=image)
    assert "<html" not in body and f"Edited from #{image.pk}" in body
    assert f'src="/library/{version.pk}/image/"' in body
    assert (
        f'Edited from <a href="/library/{image.pk}/edit/">#{image.pk}</a>'
        in as_staff.get(f"/library/{version.pk}/edit/").content.decode()
    )


def test_an_empty_edit_instruction_is_a_form_error(as_staff, image, funded):
    response = as_staff.post(f"/library/{image.pk}/edit/", {"instruction": ""}, **HTMX)
    assert "Say what you" in response.content.decode()
    assert _charges(funded).count() == 1


# --- Library ------------------------------------------------------------------------------------


def test_the_library_fragment_is_served_to_htmx(as_staff, funded, image):
    response = as_staff.get("/library/", **HTMX)
    body = response.content.decode()
    assert "<html" not in body and body.lstrip().startswith('<div id="library-results">')
    assert f'id="asset-{image.pk}"' in body and f"/library/{image.pk}/download/" in body


def test_the_library_filters_by_kind(as_staff, funded, image):
    Asset.objects.create(venue=funded, kind=Asset.Kind.OCR, prompt="Menu import", text="MENU")
    body = as_staff.get("/library/?kind=ocr").content.decode()
    assert "MENU" in body and f'id="asset-{image.pk}"' not in body
    assert as_staff.get("/library/?kind=video&page=x").status_code == 200  # bad filters fall back


def test_the_library_searches_by_meaning(as_staff, funded, simulated):
    soup = Asset.objects.create(venue=funded, kind=Asset.Kind.TEXT, prompt="tomato soup", text="Hot soup")
    wine = Asset.objects.create(venue=funded, kind=Asset.Kind.TEXT, prompt="wine list", text="Reds")
    body = as_staff.get("/library/?q=soup", **HTMX).content.decode()
    assert f'id="asset-{soup.pk}"' in body and f'id="asset-{wine.pk}"' not in body
    assert "word matches" not in body


def test_the_library_says_calmly_when_it_falls_back_to_words(as_staff, funded, simulated, chain):
    chain("embedding", "gone")
    Asset.objects.create(venue=funded, kind=Asset.Kind.TEXT, prompt="tomato soup", text="Hot soup")
    body = as_staff.get("/library/?q=soup").content.decode()
    assert "Showing word matches — search by meaning is taking a break" in body
    assert "Hot soup" in body and "banner-red" not in body


def test_the_library_pages(as_staff, funded):
    for i in range(30):
        Asset.objects.create(venue=funded, kind=Asset.Kind.TEXT, prompt=f"p{i}", text=f"caption number {i}")
    first = as_staff.get("/library/").content.decode()
    assert first.count('class="asset-card"') == 24 and "?page=2" in first
    second = as_staff.get("/library/?page=2", **HTMX).content.decode()
    assert second.count('class="asset-card"') == 6 and "Newer" in second


def test_the_library_page_uses_a_fixed_number_of_queries(as_staff, funded, django_assert_max_num_queries):
    for i in range(10):
        Asset.objects.create(venue=funded, kind=Asset.Kind.TEXT, prompt=f"p{i}", text="t")
    with django_assert_max_num_queries(12):
        as_staff.get("/library/")


# --- Menu import --------------------------------------------------------------------------------


@pytest.mark.parametrize("document", [image_bytes("JPEG"), PDF_BYTES])
def test_a_menu_import_shows_the_text_and_saves_it(as_staff, funded, simulated, document):
    upload = SimpleUploadedFile("menu", document)
    response = as_staff.post("/menu/import/", {"document": upload}, **HTMX)
    body = response.content.decode()
    asset = Asset.objects.get(kind=Asset.Kind.OCR)
    assert "<html" not in body and "MENU" in body and f"#{asset.pk}" in body


def test_a_menu_import_of_a_non_document_is_a_form_error(as_staff, funded, simulated):
    upload = SimpleUploadedFile("menu.txt", b"Soup 5")
    body = as_staff.post("/menu/import/", {"document": upload}, **HTMX).content.decode()
    assert "isn&#x27;t one we can read" in body and not _charges(funded).exists()
    assert "Choose a photo" in as_staff.post("/menu/import/", {}, **HTMX).content.decode()


# --- AI settings --------------------------------------------------------------------------------


def test_ai_settings_set_and_clear_the_venue_primary(as_staff, funded):
    response = as_staff.post(
        "/settings/ai/",
        {"image": "simulated:ok", "chat": "openai:gpt-4o", "ocr": "", "embedding": ""},
        **HTMX,
    )
    assert "Saved" in response.content.decode() and "<html" not in response.content.decode()
    rows = {p.kind: (p.provider, p.model) for p in VenuePrimary.objects.filter(venue=funded)}
    assert rows == {"image": ("simulated", "ok"), "chat": ("openai", "gpt-4o")}
    page = as_staff.get("/settings/ai/").content.decode()
    assert 'value="openai:gpt-4o" selected' in page
    as_staff.post("/settings/ai/", {"image": "", "chat": "openai:gpt-4o", "ocr": "", "embedding": ""})
    assert list(VenuePrimary.objects.values_list("kind", flat=True)) == ["chat"]


def test_ai_settings_refuse_a_model_not_offered_for_the_kind(as_staff, funded):
    response = as_staff.post(
        "/settings/ai/", {"image": "mistral:mistral-embed", "chat": "", "ocr": "", "embedding": ""}
    )
    assert "Pick a model from the list" in response.content.decode()
    assert not VenuePrimary.objects.exists()


def test_a_reference_photo_upload_is_used(as_staff, funded, simulated):
    upload = SimpleUploadedFile("dish.webp", image_bytes("WEBP", size=(32, 32)), content_type="image/webp")
    response = as_staff.post("/composer/image/", {"prompt": "Our burger", "reference": upload}, **HTMX)
    assert response.status_code == 200 and Asset.objects.get().kind == Asset.Kind.IMAGE
    assert _charges(funded).count() == 1


def test_a_user_without_a_venue_is_sent_home(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="nobody", password="pw"))
    response = client.get("/composer/")
    assert response.status_code == 302 and response["Location"] == "/"


# --- Double submits: one charge per rendered form ------------------------------------------------


def _submission_ids(body: str) -> list[str]:
    import re

    return re.findall(r'name="submission" value="([0-9a-f]{32})"', body)


def test_each_paid_form_carries_its_own_fresh_submission_id(as_staff, image):
    composer, again = (as_staff.get("/composer/").content.decode() for _ in range(2))
    assert len(_submission_ids(composer)) == 2  # image and caption
    assert len(set(_submission_ids(composer) + _submission_ids(again))) == 4
    assert len(_submission_ids(as_staff.get("/menu/import/").content.decode())) == 1
    assert len(_submission_ids(as_staff.get(f"/library/{image.pk}/edit/").content.decode())) == 1


def _post_twice(client, url, data, *, files=None, htmx=False):
    token = _submission_ids(client.get("/composer/").content.decode())[0]
    headers = HTMX if htmx else {}
    responses = []
    for _ in range(2):
        payload = {
            **data,
            "submission": token,
            **({name: make() for name, make in files.items()} if files else {}),
        }
        responses.append(client.post(url, payload, **headers))
    return token, responses


@pytest.mark.parametrize(
    ("url", "data", "files", "kind"),
    [
        ("/composer/image/", {"prompt": "Pasta"}, None, "image"),
        ("/composer/caption/", {"prompt": "Autumn"}, None, "chat"),
        ("/menu/import/", {}, {"document": lambda: SimpleUploadedFile("menu.png", image_bytes())}, "ocr"),
    ],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_a_repeated_submission_is_charged_and_run_once(
    as_staff, funded, simulated, url, data, files, kind, htmx
):
    token, (first, second) = _post_twice(as_staff, url, data, files=files, htmx=htmx)
    assert first.status_code == second.status_code == 200
    assert _charges(funded).count() == 1 and Asset.objects.count() == 1
    assert Asset.objects.get().request_id == token
    assert gate.balance_of(funded) == START_BALANCE - gate.cost_of(kind)
    body = second.content.decode()
    assert "banner-amber" in body and "sent twice, so we&#x27;re only doing it once" in body
    assert f'Request ID: <span class="request-id">{token}</span>' in body
    assert token not in _submission_ids(body) and _submission_ids(body)  # the next try is a new one


def test_a_repeated_edit_makes_one_version(as_staff, funded, image):
    token, (first, second) = _post_twice(as_staff, f"/library/{image.pk}/edit/", {"instruction": "Add basil"})
    assert Asset.objects.filter(parent=image).count() == 1 and _charges(funded).count() == 2
    assert "sent twice" in second.content.decode()


def test_trying_again_after_a_failure_is_a_new_submission(as_staff, funded, simulated, chain):
    chain("image", "gone")
    token = _submission_ids(as_staff.get("/composer/").content.decode())[0]
    failed = as_staff.post(
        "/composer/image/", {"prompt": "Pasta", "submission": token}, **HTMX
    ).content.decode()
    assert "couldn&#x27;t generate your image" in failed and gate.balance_of(funded) == START_BALANCE
    retry = _submission_ids(failed)[0]
    assert retry != token
    chain("image", "ok")
    response = as_staff.post("/composer/image/", {"prompt": "Pasta", "submission": retry}, **HTMX)
    assert Asset.objects.get().request_id == retry and "banner" not in response.content.decode()
    assert gate.balance_of(funded) == START_BALANCE - gate.cost_of("image")


@pytest.mark.parametrize("token", ["", "not-a-token", "../../etc/passwd", "A" * 32, "0" * 33])
def test_a_missing_or_malformed_submission_id_is_replaced(as_staff, funded, simulated, token):
    response = as_staff.post("/composer/image/", {"prompt": "Pasta", "submission": token}, **HTMX)
    assert response.status_code == 200 and "form-error" not in response.content.decode()
    asset = Asset.objects.get()
    assert asset.request_id != token and len(asset.request_id) == 32


def test_an_exhausted_edit_shows_the_amber_banner_with_editor_copy(as_staff, funded, image, chain):
    chain("image", "gone")
    body = as_staff.post(f"/library/{image.pk}/edit/", {"instruction": "Add basil"}, **HTMX).content.decode()
    assert (
        "banner-amber" in body
        and "We couldn&#x27;t save your edit right now because of a problem on our side" in body
    )
    assert "editor.editImage" in body and Alert.objects.get().request_id in body
    assert gate.balance_of(funded) == START_BALANCE - gate.cost_of("image")  # only the original was paid for


def test_a_menu_too_large_says_file_not_image(as_staff, funded, simulated, settings):
    settings.MAX_IMAGE_BYTES = 1000
    upload = SimpleUploadedFile("menu.pdf", PDF_BYTES + b"\0" * 1000)
    body = as_staff.post("/menu/import/", {"document": upload}, **HTMX).content.decode()
    assert "That file is too large. Please upload one under 10 MB." in body and "banner" not in body
    assert not _charges(funded).exists()


@pytest.mark.parametrize("url", ["/composer/", "/library/", "/menu/import/", "/settings/ai/"])
def test_every_venue_page_carries_the_no_answer_banner_for_the_script(as_staff, funded, url):
    body = as_staff.get(url).content.decode()
    template = body.split('<template id="no-answer-banner">')[1].split("</template>")[0]
    assert 'class="banner banner-amber friendly-error"' in template and "Show technical details" in template
    assert "Something went wrong on our side" in template
    assert 'src="/static/composer/panels.js"' in body
    assert "no-answer-banner" not in as_staff.get(url, **HTMX).content.decode()  # fragments don't repeat it


def test_an_unusable_answer_is_the_amber_banner_not_an_upload_error(as_staff, funded, simulated, monkeypatch):
    from resilience.types import AIOutput, CascadeResult

    monkeypatch.setattr(
        services.cascade,
        "run",
        lambda *a, **k: CascadeResult(
            output=AIOutput(model="m", image=image_bytes("GIF")), attempts=(), answered_by="leg"
        ),
    )
    body = as_staff.post("/composer/image/", {"prompt": "Pasta"}, **HTMX).content.decode()
    assert "banner-amber" in body and "form-error" not in body and "PNG, JPEG or WebP" not in body
    assert gate.balance_of(funded) == START_BALANCE


# --- What each paid button costs ------------------------------------------------------------------


def test_every_paid_button_says_what_it_costs(as_staff, funded, image):
    assert "Uses 4 credits" in as_staff.get(f"/library/{image.pk}/edit/").content.decode()
    assert "Uses 2 credits" in as_staff.get("/menu/import/").content.decode()
    composer = as_staff.get("/composer/").content.decode()
    assert "Uses 4 credits" in composer and "Uses 1 credit<" in composer
    assert "low-balance" not in composer


def test_a_button_the_venue_cannot_afford_says_so_before_the_click(as_staff, venue, simulated):
    gate.grant(venue=venue, amount=5, note="")
    body = as_staff.post("/composer/image/", {"prompt": "Pasta"}, **HTMX).content.decode()
    assert "Saved to your Library" in body  # 5 - 4 = 1 left: not enough for another image
    assert (
        'Uses 4 credits<span class="low-balance"> — you have 1. Ask your venue owner to top up.</span>'
        in body
    )
    caption = as_staff.get("/composer/").content.decode().split('id="caption-panel"')[1]
    assert "Uses 1 credit</span>" in caption and "low-balance" not in caption


def test_after_a_failed_try_the_operator_is_told_to_choose_the_photo_again(
    as_staff, funded, simulated, chain
):
    chain("image", "gone")
    upload = SimpleUploadedFile("dish.png", image_bytes())
    body = as_staff.post(
        "/composer/image/", {"prompt": "Our burger", "reference": upload}, **HTMX
    ).content.decode()
    assert "banner-amber" in body and "Choose your photo again" in body
    without_photo = as_staff.post("/composer/image/", {"prompt": "Our burger"}, **HTMX).content.decode()
    assert "Choose your photo again" not in without_photo
    chain("image", "ok")
    success = as_staff.post(
        "/composer/image/",
        {"prompt": "Our burger", "reference": SimpleUploadedFile("d.png", image_bytes())},
        **HTMX,
    )
    assert "Choose your photo again" not in success.content.decode()
