"""Super Admin → AI Fallbacks, server side: access, rendering, save, validation, reset, history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from resilience.chains import reset_chain
from resilience.defaults import DEFAULT_CHAINS
from resilience.models import ChainCandidate, ChainRevision

pytestmark = pytest.mark.django_db

PAGE = "/admin/super/ai-fallbacks/"


def _rows(kind):
    return list(
        ChainCandidate.objects.filter(kind=kind)
        .order_by("priority")
        .values_list("label", "provider", "model", "enabled", "env_key", "base_url", "notes")
    )


def _post_data(specs, **override):
    """The form as the browser posts it: one list per field, in card order."""
    data = {
        name: []
        for name in (
            "uid",
            "label",
            "provider",
            "model_choice",
            "model_other",
            "enabled",
            "env_key",
            "base_url",
            "notes",
        )
    }
    for i, spec in enumerate(specs):
        row = {
            "uid": f"c{i}",
            "label": spec[0],
            "provider": spec[1],
            "model_choice": "__other__",
            "model_other": spec[2],
            "enabled": "1",
            "env_key": "",
            "base_url": "",
            "notes": "",
        }
        row.update(spec[3] if len(spec) > 3 else {})
        for name, value in row.items():
            data[name].append(value)
    data.update(override)
    return data


@pytest.fixture
def admin_client(client, superadmin):
    client.force_login(superadmin)
    for kind in DEFAULT_CHAINS:
        reset_chain(kind)
    return client


def test_venue_staff_and_anonymous_get_no_access(client, staff):
    for url in (PAGE, PAGE + "image/", PAGE + "image/history/", PAGE + "image/card/"):
        assert client.get(url).status_code == 302  # to the admin login
    client.force_login(staff)
    for url in (PAGE, PAGE + "chat/", PAGE + "chat/history/", PAGE + "chat/card/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    before = _rows("chat")
    client.post(PAGE + "chat/", _post_data([("Mine", "openai", "gpt-4o")]))
    client.post(PAGE + "chat/reset/")
    assert _rows("chat") == before


def test_staff_user_with_is_staff_flag_still_gets_no_access(client, staff):
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    assert client.get(PAGE + "image/").status_code == 302


@pytest.mark.parametrize("kind", ["image", "chat", "ocr", "embedding"])
def test_each_tab_renders_its_saved_chain(admin_client, kind):
    response = admin_client.get(PAGE + f"{kind}/")
    assert response.status_code == 200
    html = response.content.decode()
    for spec in DEFAULT_CHAINS[kind]:
        assert f'value="{spec.label}"' in html
    assert html.count('<li class="fb-card') == len(DEFAULT_CHAINS[kind])
    assert 'aria-current="page"' in html


def test_the_bare_url_and_kind_query_pick_a_tab(admin_client):
    assert "KIE Nano Banana 2" in admin_client.get(PAGE).content.decode()
    assert "Mistral OCR" in admin_client.get(PAGE + "?kind=ocr").content.decode()
    assert admin_client.get(PAGE + "video/").status_code == 404
    assert admin_client.get(PAGE + "?kind=video").status_code == 404


def test_badges_say_ready_or_why_skipped(admin_client, monkeypatch):
    monkeypatch.setenv("KIE_API_KEY", "kie-secret-value")
    html = admin_client.get(PAGE + "image/").content.decode()
    assert html.count(">Ready<") == 3
    assert "Skipped — OPENAI_API_KEY not set" in html
    assert "kie-secret-value" not in html  # only key NAMES are ever shown


def test_saving_the_tab_replaces_the_chain_and_records_who(admin_client, superadmin):
    specs = [
        ("OpenAI", "openai", "gpt-image-2", {"model_choice": "gpt-image-2", "model_other": ""}),
        ("KIE 2", "kie", "nano-banana-2", {"enabled": "0", "notes": "paused"}),
    ]
    response = admin_client.post(PAGE + "image/", _post_data(specs))
    assert response.status_code == 302 and response["Location"].endswith("/ai-fallbacks/image/")
    assert _rows("image") == [
        ("OpenAI", "openai", "gpt-image-2", True, "", "", ""),
        ("KIE 2", "kie", "nano-banana-2", False, "", "", "paused"),
    ]
    revision = ChainRevision.objects.filter(kind="image").first()
    assert revision.saved_by == superadmin
    page = admin_client.get(PAGE + "image/").content.decode()
    assert "Saved the Image chain" in page
    assert "Skipped — disabled" in page


@pytest.mark.parametrize(
    ("card", "field", "message"),
    [
        (("X", "nope", "m"), "provider", "Unknown provider"),
        (("X", "openai", ""), "model", "Pick a model"),
        (("X", "openai", "gpt-image-2", {"base_url": "ftp://x"}), "base_url", "Enter a full URL"),
        (
            ("X", "openai", "gpt-image-2", {"base_url": "http://proxy.example.com/v1"}),
            "base_url",
            "Use https://",
        ),
        (
            ("X", "openai", "gpt-image-2", {"base_url": "https://proxy.example.com/v1?token=abc"}),
            "base_url",
            "query string",
        ),
        (("X", "openai", "gpt-image-2", {"env_key": "my key"}), "env_key", "env key name"),
        (("", "openai", "gpt-image-2"), "label", "label"),
    ],
)
def test_bad_input_shows_errors_on_the_card_and_saves_nothing(admin_client, card, field, message):
    before, revisions = _rows("image"), ChainRevision.objects.count()
    response = admin_client.post(PAGE + "image/", _post_data([("Good", "kie", "nano-banana-2"), card]))
    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was saved: 1 candidate needs attention" in html
    assert f'id="c1-{field.replace("_", "-")}-error"' in html
    assert message in html
    assert 'id="c0-' in html and 'id="c1-' in html  # the posted cards are re-rendered, not the saved ones
    assert _rows("image") == before
    assert ChainRevision.objects.count() == revisions


def test_a_damaged_form_saves_nothing(admin_client):
    before = _rows("chat")
    data = _post_data([("A", "openai", "gpt-4o")], label=[])
    response = admin_client.post(PAGE + "chat/", data)
    assert response.status_code == 400
    assert "nothing was saved" in response.content.decode()
    assert _rows("chat") == before


def test_a_failure_mid_save_from_the_page_changes_nothing(admin_client, monkeypatch):
    before, revisions = _rows("image"), ChainRevision.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(ChainRevision.objects, "create", boom)
    admin_client.raise_request_exception = False
    response = admin_client.post(PAGE + "image/", _post_data([("Only", "openai", "gpt-image-2")]))
    assert response.status_code == 500
    assert _rows("image") == before
    assert ChainRevision.objects.count() == revisions


def test_the_card_partial_switches_provider_and_picks_its_first_model(admin_client):
    response = admin_client.post(
        PAGE + "image/card/",
        {
            "uid": "cX",
            "label": "",
            "provider": "openai",
            "model_choice": "",
            "model_other": "",
            "enabled": "1",
            "switch_provider": "1",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert '<option value="gpt-image-2" selected>' in html
    assert 'value="OpenAI gpt-image-2"' in html  # a blank label gets a suggestion
    assert "Skipped — OPENAI_API_KEY not set" in html
    assert 'id="cX-label"' in html


def test_the_card_partial_offers_only_providers_with_the_tabs_capability(admin_client):
    html = admin_client.get(PAGE + "embedding/card/").content.decode()
    assert 'data-provider="mistral"' in html and 'data-provider="kie"' not in html
    assert "Pick a provider first" in html


def test_an_unknown_model_id_is_kept_as_other(admin_client):
    admin_client.post(PAGE + "image/", _post_data([("Future", "openai", "gpt-image-2.5-sunburst")]))
    html = admin_client.get(PAGE + "image/").content.decode()
    assert '<option value="__other__" selected>' in html
    assert 'value="gpt-image-2.5-sunburst"' in html


def test_reset_restores_defaults_and_history_can_restore_an_older_revision(admin_client):
    admin_client.post(PAGE + "ocr/", _post_data([("Just Mistral", "mistral", "mistral-ocr-latest")]))
    custom = ChainRevision.objects.filter(kind="ocr").first()
    response = admin_client.post(PAGE + "ocr/reset/")
    assert response.status_code == 302
    assert [r[0] for r in _rows("ocr")] == [s.label for s in DEFAULT_CHAINS["ocr"]]
    history = admin_client.get(PAGE + "ocr/history/").content.decode()
    assert f"Revision #{custom.pk}" in history and "Reset to defaults" in history
    assert "by root" in history
    response = admin_client.post(PAGE + f"ocr/history/{custom.pk}/restore/")
    assert response.status_code == 302
    assert [r[0] for r in _rows("ocr")] == ["Just Mistral"]
    assert admin_client.post(PAGE + "chat/history/999999/restore/").status_code == 404
    assert admin_client.get(PAGE + f"ocr/history/{custom.pk}/restore/").status_code == 405


def test_labels_are_escaped(admin_client):
    admin_client.post(PAGE + "chat/", _post_data([("<b>Bold</b> & co", "openai", "gpt-4o")]))
    html = admin_client.get(PAGE + "chat/").content.decode()
    assert "<b>Bold</b>" not in html and "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in html


def test_the_page_names_its_urls(admin_client):
    assert reverse("admin:super-ai-fallbacks") == PAGE
    assert reverse("admin:super-ai-fallbacks-kind", args=["chat"]) == PAGE + "chat/"


def test_the_tab_runs_a_bounded_number_of_queries(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        assert admin_client.get(PAGE + "chat/").status_code == 200


def test_cards_show_the_breakers_view_of_each_candidate(admin_client, settings):
    from resilience import health

    settings.BREAKER_FAILURE_THRESHOLD = 2
    key = health.candidate_key("openai", "gpt-image-2", "")
    for _ in range(2):
        health.record_outcome(
            key, ok=False, reason="model_not_found", duration_ms=120, message="The model does not exist"
        )
    html = admin_client.get(PAGE + "image/").content.decode()
    assert "fb-health-open" in html
    assert "Success (1 h): 0%" in html
    assert "model_not_found" in html


@pytest.mark.parametrize("model", ["chaincandidate", "chainrevision", "venueprimary"])
def test_the_raw_tables_are_read_only_in_django_admin(admin_client, model):
    response = admin_client.get(f"/admin/resilience/{model}/")
    assert response.status_code == 200
    assert admin_client.get(f"/admin/resilience/{model}/add/").status_code == 403


def test_a_model_that_needs_a_reference_image_says_so(admin_client):
    html = admin_client.get(PAGE + "image/").content.decode()
    assert html.count("Tried only when the request carries a reference image") == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"base_url": "https://[::1/v1"}, "base_url"),  # urlsplit raises on an unclosed IPv6 bracket
        ({"base_url": "https://proxy.example .com/v1"}, "base_url"),
        ({"label": "Nul\x00label"}, "label"),  # PostgreSQL refuses NUL: a card error, not a 500
        ({"model_other": "gpt\x00image"}, "model"),
        ({"notes": "a\x00b"}, "notes"),
        ({"notes": "n" * 4001}, "notes"),
        ({"label": "L" * 100_000}, "label"),
    ],
)
def test_crafted_cards_are_errors_on_the_card_never_a_500(admin_client, override, field):
    before, revisions = _rows("image"), ChainRevision.objects.count()
    admin_client.raise_request_exception = False
    response = admin_client.post(
        PAGE + "image/",
        _post_data([("Good", "kie", "nano-banana-2"), ("X", "openai", "gpt-image-2", override)]),
    )
    assert response.status_code == 422
    assert f'id="c1-{field.replace("_", "-")}-error"' in response.content.decode()
    assert _rows("image") == before
    assert ChainRevision.objects.count() == revisions


def test_crafted_requests_to_the_other_endpoints_never_give_a_500(admin_client):
    admin_client.raise_request_exception = False
    before = _rows("image")
    for url, data in [
        (PAGE + "image/card/", {}),
        (PAGE + "image/card/", {"provider": "nope", "switch_provider": "1"}),
        (
            PAGE + "image/card/",
            {"provider": "kie", "label": "a\x00b", "base_url": "https://[::1", "switch_provider": "1"},
        ),
        (PAGE + "video/card/", {}),
        (PAGE + "video/reset/", {}),
        (PAGE + f"image/history/{2**63 - 1}/restore/", {}),
    ]:
        assert admin_client.post(url, data).status_code in (200, 404), url
    assert _rows("image") == before


def _base_revision(html: str) -> str:
    import re

    return re.search(r'name="base_revision" value="(\d*)"', html).group(1)


def test_a_colleagues_save_is_never_silently_replaced(admin_client, superadmin):
    from resilience.chains import CandidateSpec, save_chain

    base = _base_revision(admin_client.get(PAGE + "chat/").content.decode())
    assert base == str(ChainRevision.objects.filter(kind="chat").first().pk)
    # Meanwhile a colleague (another tab, another super admin) saves the Chat chain.
    save_chain(
        kind="chat",
        specs=[CandidateSpec("Colleague's <pick>", "openrouter", "openai/gpt-4o")],
        user=superadmin,
    )
    theirs = ChainRevision.objects.filter(kind="chat").first()
    mine = _post_data([("Mine", "openrouter", "openai/gpt-4o")], base_revision=base)

    response = admin_client.post(PAGE + "chat/", mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else while you were editing" in html and "Nothing was saved" in html
    assert f"revision #{theirs.pk} by root" in html and "Colleague&#x27;s &lt;pick&gt;" in html
    assert 'value="Mine"' in html and 'data-dirty="1"' in html  # my edits are still on the page
    assert [r[0] for r in _rows("chat")] == ["Colleague's <pick>"]
    # Having been told, a second Save replaces their version with mine.
    mine["base_revision"] = _base_revision(html)
    assert mine["base_revision"] == str(theirs.pk)
    assert admin_client.post(PAGE + "chat/", mine).status_code == 302
    assert [r[0] for r in _rows("chat")] == ["Mine"]


def test_a_failed_validation_keeps_the_revision_the_editor_loaded(admin_client, superadmin):
    from resilience.chains import CandidateSpec, save_chain

    base = _base_revision(admin_client.get(PAGE + "ocr/").content.decode())
    bad = admin_client.post(
        PAGE + "ocr/", _post_data([("", "mistral", "mistral-ocr-latest")], base_revision=base)
    )
    assert bad.status_code == 422 and _base_revision(bad.content.decode()) == base
    save_chain(
        kind="ocr", specs=[CandidateSpec("Colleague's", "mistral", "mistral-ocr-latest")], user=superadmin
    )
    fixed = _post_data([("Mine", "mistral", "mistral-ocr-latest")], base_revision=base)
    assert admin_client.post(PAGE + "ocr/", fixed).status_code == 409
    assert [r[0] for r in _rows("ocr")] == ["Colleague's"]


@pytest.mark.parametrize("junk", ["", "abc", "-1", "99999999999999999999999", "１２"])
def test_a_missing_or_junk_base_revision_saves_as_before(admin_client, junk):
    response = admin_client.post(
        PAGE + "ocr/", _post_data([("Mine", "mistral", "mistral-ocr-latest")], base_revision=junk)
    )
    assert response.status_code == 302
    assert [r[0] for r in _rows("ocr")] == ["Mine"]


def test_a_flood_of_cards_is_refused_and_saves_nothing(admin_client):
    before = _rows("chat")
    admin_client.raise_request_exception = False
    flood = _post_data([(f"C{i}", "openrouter", "openai/gpt-4o") for i in range(400)])
    assert admin_client.post(PAGE + "chat/", flood).status_code == 400
    assert _rows("chat") == before
