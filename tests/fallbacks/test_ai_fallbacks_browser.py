"""Super Admin → AI Fallbacks in a real browser: the journeys a super admin takes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from resilience.chains import reset_chain
from resilience.defaults import DEFAULT_CHAINS
from resilience.models import ChainCandidate, ChainRevision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rows(kind):
    return list(
        ChainCandidate.objects.filter(kind=kind)
        .order_by("priority")
        .values_list("label", "provider", "model", "enabled", "base_url")
    )


@pytest.fixture
def admin_page(login, superadmin, live_server, monkeypatch):
    # transaction=True flushes the seeded rows between tests: seed them again.
    for kind in DEFAULT_CHAINS:
        reset_chain(kind)
    monkeypatch.setenv("KIE_API_KEY", "kie-test-key")
    page = login("root", "pw-root")

    def open_tab(kind: str):
        page.goto(f"{live_server.url}/admin/super/ai-fallbacks/{kind}/")
        page.wait_for_load_state("networkidle")
        return page

    page.open_tab = open_tab
    return page


def _card(page, n: int):
    return page.locator("#fb-cards > li.fb-card").nth(n - 1)


def _save(page):
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("kind", ["image", "chat", "ocr", "embedding"])
def test_each_tab_shows_its_chain(admin_page, screenshot, kind):
    page = admin_page.open_tab(kind)
    expect(page.locator(".fb-tab.is-current")).to_contain_text(
        {"image": "Image", "chat": "Chat / Text", "ocr": "OCR", "embedding": "Embedding"}[kind]
    )
    cards = page.locator("#fb-cards > li.fb-card")
    expect(cards).to_have_count(len(DEFAULT_CHAINS[kind]))
    for i, spec in enumerate(DEFAULT_CHAINS[kind], start=1):
        expect(_card(page, i).locator(".fb-prio")).to_contain_text(str(i))
        expect(_card(page, i).get_by_label("Display label")).to_have_value(spec.label)
    if kind == "image":
        page.get_by_text("Advanced").first.click()  # one card's Advanced open, for the screenshot
        expect(_card(page, 1).locator(".fb-badge")).to_have_text("Ready")
        expect(_card(page, 4).locator(".fb-badge")).to_have_text("Skipped — OPENAI_API_KEY not set")
    screenshot(f"ai-fallbacks-{kind}")


def test_swap_the_openai_model_and_save(admin_page):
    page = admin_page.open_tab("image")
    openai = _card(page, 4)
    openai.get_by_label("Model", exact=True).select_option("gpt-image-2-2026-04-21")
    expect(page.locator("#fb-dirty")).to_be_visible()
    _save(page)
    expect(page.locator(".messagelist")).to_contain_text("model gpt-image-2 → gpt-image-2-2026-04-21")
    assert _rows("image")[3][2] == "gpt-image-2-2026-04-21"
    page.reload()
    expect(_card(page, 4).get_by_label("Model", exact=True)).to_have_value("gpt-image-2-2026-04-21")


def test_type_a_model_the_registry_does_not_know(admin_page):
    page = admin_page.open_tab("image")
    model = _card(page, 4).get_by_label("Model", exact=True)
    model.select_option("__other__")
    other = _card(page, 4).get_by_label("Model id")
    expect(other).to_be_focused()
    other.fill("gpt-image-2.5-sunburst")
    _save(page)
    assert _rows("image")[3][2] == "gpt-image-2.5-sunburst"


def test_reorder_toggle_add_delete_then_reload_finds_what_was_saved(admin_page, screenshot):
    page = admin_page.open_tab("image")
    # ▲ on card 2: KIE Nano Banana Pro becomes first.
    _card(page, 2).get_by_role("button", name="Move KIE Nano Banana Pro up").click()
    expect(_card(page, 1).get_by_label("Display label")).to_have_value("KIE Nano Banana Pro")
    expect(_card(page, 1).locator(".fb-prio")).to_contain_text("1")
    # ▼ with the keyboard on the (new) first card's neighbour: Nano Banana 2 moves below Edit.
    down = _card(page, 2).get_by_role("button", name="Move KIE Nano Banana 2 down")
    down.focus()
    page.keyboard.press("Enter")
    expect(_card(page, 3).get_by_label("Display label")).to_have_value("KIE Nano Banana 2")
    # Toggle the Edit candidate (now #2) off with the keyboard: the card says why it is skipped,
    # and focus stays on the toggle after the card is re-rendered.
    _card(page, 2).get_by_role("button", name="Enabled").focus()
    page.keyboard.press("Space")
    expect(_card(page, 2).locator(".fb-badge")).to_have_text("Skipped — disabled")
    expect(_card(page, 2).get_by_role("button", name="Disabled")).to_be_focused()
    expect(_card(page, 2).get_by_role("heading")).to_have_text("Candidate 2: KIE Nano Banana Edit")
    expect(_card(page, 2).get_by_role("button", name="Disabled")).to_have_attribute("aria-pressed", "false")
    # Delete the last-ditch OpenAI card.
    _card(page, 4).get_by_role("button", name="Delete OpenAI gpt-image-2").click()
    expect(page.locator("#fb-cards > li.fb-card")).to_have_count(3)
    # Add a provider: OpenAI through a proxy, base URL in Advanced.
    page.get_by_role("button", name="+ Add provider").click()
    new = _card(page, 4)
    expect(new.get_by_label("Display label")).to_be_focused()
    new.get_by_role("button", name="OpenAI", exact=True).click()
    expect(new.get_by_role("button", name="OpenAI", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(new.get_by_label("Model", exact=True)).to_have_value("gpt-image-2")
    new.get_by_label("Display label").fill("OpenAI via proxy")
    new.get_by_text("Advanced").click()
    new.get_by_label("Base URL override").fill("https://proxy.example.com/v1")
    new.get_by_label("Internal notes").fill("EU proxy")
    expect(new.locator(".fb-prio")).to_contain_text("4")
    screenshot("ai-fallbacks-image-editing")
    assert _rows("image")[0][0] == "KIE Nano Banana 2"  # nothing written before Save
    _save(page)
    expected = [
        ("KIE Nano Banana Pro", "kie", "nano-banana-pro", True, ""),
        ("KIE Nano Banana Edit", "kie", "google/nano-banana-edit", False, ""),
        ("KIE Nano Banana 2", "kie", "nano-banana-2", True, ""),
        ("OpenAI via proxy", "openai", "gpt-image-2", True, "https://proxy.example.com/v1"),
    ]
    assert _rows("image") == expected
    assert ChainCandidate.objects.get(kind="image", priority=4).notes == "EU proxy"
    page.reload()
    for i, row in enumerate(expected, start=1):
        expect(_card(page, i).get_by_label("Display label")).to_have_value(row[0])
        expect(_card(page, i).get_by_label("Model", exact=True)).to_have_value(row[2])
    expect(_card(page, 2).locator(".fb-badge")).to_have_text("Skipped — disabled")
    expect(_card(page, 4).get_by_label("Base URL override")).to_have_value("https://proxy.example.com/v1")
    expect(_card(page, 4).locator(".fb-badge")).to_have_text("Skipped — OPENAI_API_KEY not set")


def test_bad_input_is_shown_on_the_card_and_nothing_is_saved(admin_page, screenshot):
    before, revisions = _rows("chat"), ChainRevision.objects.count()
    page = admin_page.open_tab("chat")
    page.get_by_role("button", name="+ Add provider").click()
    new = _card(page, 6)
    new.get_by_role("button", name="OpenAI-compatible").click()
    expect(new.get_by_label("Model", exact=True)).to_have_value("llama3.1")
    new.get_by_text("Advanced").click()
    new.get_by_label("Base URL override").fill("ftp://ollama.local")
    _card(page, 1).get_by_label("Model", exact=True).select_option("__other__")
    _card(page, 1).get_by_label("Model id").fill("")
    _save(page)
    expect(page.locator("#fb-errors")).to_contain_text("Nothing was saved: 2 candidates need attention")
    expect(_card(page, 1).locator(".fb-error")).to_contain_text("Pick a model")
    expect(_card(page, 6).locator(".fb-error")).to_contain_text("Enter a full URL")
    expect(page.locator("#fb-dirty")).to_be_visible()
    screenshot("ai-fallbacks-errors")
    assert _rows("chat") == before
    assert ChainRevision.objects.count() == revisions
    # Fix it on the re-rendered page (http is fine for a self-hosted server) and save.
    _card(page, 6).get_by_label("Base URL override").fill("http://10.0.0.5:11434/v1")
    _card(page, 1).get_by_label("Model id").fill("anthropic/claude-sonnet-5")
    _save(page)
    rows = _rows("chat")
    assert rows[0][2] == "anthropic/claude-sonnet-5"
    assert rows[5][1:] == ("openai_compatible", "llama3.1", True, "http://10.0.0.5:11434/v1")


def test_reset_to_defaults_after_confirming(admin_page):
    page = admin_page.open_tab("ocr")
    _card(page, 3).get_by_role("button", name=re.compile("^Delete ")).click()
    _save(page)
    assert len(_rows("ocr")) == 2
    page.get_by_text("Reset to defaults…").click()
    page.get_by_role("button", name="Yes, reset to defaults").click()
    page.wait_for_load_state("networkidle")
    assert [r[0] for r in _rows("ocr")] == [s.label for s in DEFAULT_CHAINS["ocr"]]
    expect(page.locator("#fb-cards > li.fb-card")).to_have_count(3)
    expect(page.locator(".messagelist")).to_contain_text("Reset the OCR chain")


def test_restore_an_older_revision_from_history(admin_page, screenshot):
    page = admin_page.open_tab("embedding")
    _card(page, 1).get_by_role("button", name="Enabled").click()
    expect(_card(page, 1).locator(".fb-badge")).to_have_text("Skipped — disabled")
    _save(page)
    older = ChainRevision.objects.filter(kind="embedding").first()
    _card(page, 3).get_by_role("button", name=re.compile("^Delete ")).click()
    _save(page)
    assert len(_rows("embedding")) == 2
    page.get_by_role("link", name=re.compile("^History")).click()
    expect(page.locator(f"#revision-{older.pk}")).to_contain_text("OpenAI text-embedding-3-small: disabled")
    expect(page.locator(f"#revision-{older.pk}")).to_contain_text("by root")
    screenshot("ai-fallbacks-history")
    page.get_by_role("button", name=f"Restore revision #{older.pk}").click()
    page.wait_for_load_state("networkidle")
    assert [r[3] for r in _rows("embedding")] == [False, True, True]
    assert len(_rows("embedding")) == 3
    expect(page.locator(".messagelist")).to_contain_text(f"Restored revision #{older.pk}")


def test_leaving_with_unsaved_changes_warns(admin_page, live_server):
    page = admin_page.open_tab("chat")
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    _card(page, 1).get_by_label("Display label").fill("Renamed")
    page.get_by_role("link", name=re.compile("^History")).click()
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/ai-fallbacks/chat/")


def test_picking_another_model_refreshes_what_the_card_says_about_it(admin_page):
    page = admin_page.open_tab("image")
    first = _card(page, 1)
    hint = "Tried only when the request carries a reference image"
    expect(first).not_to_contain_text(hint)
    model = first.get_by_label("Model", exact=True)
    model.focus()
    model.select_option("google/nano-banana-edit")
    # The card is re-rendered for the chosen model: it needs a reference image, and says so.
    expect(_card(page, 1)).to_contain_text(hint)
    expect(_card(page, 1).get_by_label("Model", exact=True)).to_be_focused()
    expect(_card(page, 1).get_by_label("Model", exact=True)).to_have_value("google/nano-banana-edit")
    expect(page.locator("#fb-dirty")).to_be_visible()
    # The keyboard way: arrow keys on the focused dropdown change the model, focus stays put.
    page.keyboard.press("ArrowDown")
    expect(_card(page, 1).get_by_label("Model", exact=True)).to_have_value("google/nano-banana")
    expect(_card(page, 1)).not_to_contain_text(hint)
    expect(_card(page, 1).get_by_label("Model", exact=True)).to_be_focused()
    assert _rows("image")[0][2] == "nano-banana-2"  # nothing written before Save


def test_typing_while_a_card_is_re_rendered_loses_nothing(admin_page, monkeypatch):
    import time

    from resilience import admin_views

    page = admin_page.open_tab("chat")
    build_card = admin_views.build_card

    def slow_build_card(*args, **kwargs):  # a slow server: the admin types on while the card renders
        time.sleep(0.6)
        return build_card(*args, **kwargs)

    monkeypatch.setattr(admin_views, "build_card", slow_build_card)
    card = _card(page, 1)
    card.get_by_text("Advanced").click()
    card.get_by_label("Env key name").fill("MY_ROUTER_API_KEY")
    page.keyboard.press("Tab")  # the env key changed: the card is re-rendered for its badge
    page.keyboard.type("https://proxy.example.com/v1")
    expect(_card(page, 1).locator(".fb-badge")).to_have_text("Skipped — MY_ROUTER_API_KEY not set")
    expect(_card(page, 1).get_by_label("Base URL override")).to_have_value("https://proxy.example.com/v1")
    expect(_card(page, 1).get_by_label("Base URL override")).to_be_focused()
    # The same while the enable toggle re-renders the card: a label typed meanwhile is kept.
    _card(page, 2).get_by_role("button", name="Enabled").click()
    _card(page, 2).get_by_label("Display label").fill("GPT-4o, paused")
    expect(_card(page, 2).locator(".fb-badge")).to_have_text("Skipped — disabled")
    expect(_card(page, 2).get_by_label("Display label")).to_have_value("GPT-4o, paused")
    monkeypatch.setattr(admin_views, "build_card", build_card)
    _save(page)
    rows = _rows("chat")
    assert rows[0][4] == "https://proxy.example.com/v1"
    assert rows[1][0] == "GPT-4o, paused" and rows[1][3] is False
