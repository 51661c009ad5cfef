"""The venue journeys in a real browser: generate, the amber banner, edit, search, menu import."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alerts.models import Alert
from composer import services
from composer.models import Asset
from credits import gate
from tests.composer.conftest import START_BALANCE
from tests.composer.images import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_generates_an_image_and_sees_it(login, live_server, staff, funded, simulated, screenshot):
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    expect(page.locator("#credit-balance")).to_have_text(f"{START_BALANCE} credits")
    page.fill("#id_prompt", "Fresh tagliatelle with wild mushrooms")
    page.get_by_label("Rustic table").check()
    # Record the page's state at the moment the request leaves: button disabled, "Generating…" shown.
    page.evaluate("""() => { window.inflight = [];
      document.body.addEventListener('htmx:beforeSend', () => window.inflight.push({
        disabled: document.querySelector('#image-panel button[type=submit]').disabled,
        progress: getComputedStyle(document.querySelector('#image-progress')).display,
        text: document.querySelector('#image-progress').innerText})); }""")
    page.get_by_role("button", name="Generate image").click()

    result = page.locator("#image-panel figure.result")
    expect(result.locator("img")).to_be_visible()
    asset = Asset.objects.get()
    assert (asset.prompt, asset.style) == ("Fresh tagliatelle with wild mushrooms", "Rustic table")
    # The image really loads (through the access-checked file view), not just its alt text.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.locator("img").element_handle()
    )
    expect(result).to_contain_text(f"Saved to your Library as #{asset.pk}")
    expect(page.locator("#credit-balance")).to_have_text(f"{START_BALANCE - gate.cost_of('image')} credits")
    expect(page.locator("#image-panel")).not_to_contain_text("Sim ok")
    inflight = page.evaluate("window.inflight")
    assert len(inflight) == 1 and inflight[0]["disabled"] and inflight[0]["progress"] != "none"
    assert inflight[0]["text"].strip() == "Generating…"
    expect(page.get_by_role("button", name="Generate image")).to_be_enabled()
    screenshot("composer-image")

    page.get_by_role("link", name="Library").first.click()
    expect(page.locator(f"#asset-{asset.pk} img")).to_be_visible()


def test_an_exhausted_chain_shows_the_calm_amber_banner(
    login, live_server, staff, funded, simulated, chain, screenshot
):
    chain("image", "sensitive", "gone")
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    button = page.get_by_role("button", name="Generate image")
    page.fill("#id_prompt", "Meat pasta, close up")
    button.click()

    banner = page.locator("#image-panel .friendly-error")
    expect(banner).to_be_visible()
    expect(banner).to_have_class(re.compile(r"\bbanner-amber\b"))
    expect(banner).to_contain_text(
        "We couldn't generate your image right now. Try rephrasing the description, or pick a different style."
    )
    background = banner.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(255, 247, 230)"  # amber, not red

    details = banner.locator("details pre")
    expect(details).to_be_hidden()
    banner.get_by_text("Show technical details").click()
    expect(details).to_be_visible()
    alert = Alert.objects.get()
    expect(details).to_contain_text(f"Request ID: {alert.request_id}")
    expect(details).to_contain_text("social.generateImage")
    expect(page.locator("#credit-balance")).to_have_text(f"{START_BALANCE} credits")
    assert gate.balance_of(funded) == START_BALANCE and not Asset.objects.exists()
    expect(button).to_be_enabled()  # ready to try again
    screenshot("composer-banner")


def test_staff_writes_a_caption(login, live_server, staff, funded, simulated):
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    page.fill("#caption-panel textarea", "Pumpkin ravioli is back on Friday")
    page.select_option("#caption-panel select", "Playful")
    page.get_by_role("button", name="Write caption").click()
    expect(page.locator(".caption-text")).to_contain_text("Pumpkin ravioli is back on Friday")
    expect(page.locator("#credit-balance")).to_have_text(f"{START_BALANCE - gate.cost_of('chat')} credits")


def test_staff_edits_an_image_into_a_new_version(login, live_server, staff, funded, simulated, screenshot):
    original = services.generate_image(venue=funded, user=staff, prompt="Lemon tart").asset
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/library/{original.pk}/edit/")
    page.fill("#id_instruction", "Add a sprig of mint")
    page.get_by_role("button", name="Save").click()
    result = page.locator("#edit-panel figure.result")
    expect(result.locator("img")).to_be_visible()
    version = Asset.objects.get(parent=original)
    expect(result).to_contain_text(f"New version #{version.pk} · Edited from #{original.pk}")
    screenshot("image-editor")
    result.get_by_role("link", name="Keep editing this version").click()
    expect(page.locator("h1")).to_have_text(f"Edit image #{version.pk}")
    expect(page.locator("main")).to_contain_text(f"Edited from #{original.pk}")


def test_staff_searches_the_library(login, live_server, staff, funded, simulated, screenshot):
    soup = services.write_caption(venue=funded, user=staff, prompt="Tomato soup is back").asset
    wine = services.write_caption(venue=funded, user=staff, prompt="New wines by the glass").asset
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/library/")
    expect(page.locator(".asset-card")).to_have_count(2)
    page.fill("#id_q", "soup")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(f"#asset-{wine.pk}")).to_have_count(0)
    expect(page.locator(f"#asset-{soup.pk}")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]q=soup"))  # pushed, so the search can be shared or reloaded
    screenshot("library-search")


def test_staff_imports_a_menu_photo(login, live_server, staff, funded, simulated, screenshot):
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/menu/import/")
    page.set_input_files(
        "#id_document",
        files=[{"name": "menu.jpg", "mimeType": "image/jpeg", "buffer": image_bytes("JPEG", size=(64, 64))}],
    )
    page.get_by_role("button", name="Import menu").click()
    expect(page.locator("#menu-text")).to_have_value(re.compile(r"^MENU\n"))
    asset = Asset.objects.get(kind=Asset.Kind.OCR)
    expect(page.locator(".menu-result")).to_contain_text(f"#{asset.pk}")
    screenshot("menu-import")


def test_staff_picks_the_venues_primary_models(login, live_server, staff, funded, screenshot):
    from resilience.models import VenuePrimary

    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/settings/ai/")
    page.select_option("#id_chat", "openai:gpt-4o")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#ai-settings .saved")).to_contain_text("Saved")
    assert VenuePrimary.objects.get(venue=funded).model == "gpt-4o"
    screenshot("ai-settings")
    page.select_option("#id_chat", "")
    with page.expect_response(lambda r: r.url.endswith("/settings/ai/") and r.request.method == "POST"):
        page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#ai-settings .saved")).to_be_visible()
    expect(page.locator("#id_chat")).to_have_value("")
    assert not VenuePrimary.objects.exists()


def test_library_search_falls_back_to_word_matches_calmly(
    login, live_server, staff, funded, simulated, chain, screenshot
):
    soup = services.write_caption(venue=funded, user=staff, prompt="Tomato soup is back").asset
    chain("embedding", "gone")
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/library/?q=soup")
    expect(page.locator(".note")).to_have_text("Showing word matches — search by meaning is taking a break.")
    expect(page.locator(f"#asset-{soup.pk}")).to_be_visible()
    expect(page.locator(".banner-red")).to_have_count(0)
    screenshot("library-word-matches")


def test_without_javascript_reloading_the_result_does_not_pay_twice(
    _browser, live_server, staff, funded, simulated
):
    """No htmx to disable the button: the form's one-time id is what stops a re-posted form."""
    context = _browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "sam")
        page.fill("#id_password", "pw-sam")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/composer/")
        page.fill("#id_prompt", "Lemon tart")
        page.get_by_role("button", name="Generate image").click()
        expect(page.locator("#image-panel figure.result img")).to_be_visible()
        with page.expect_response(
            lambda r: r.url.endswith("/composer/image/") and r.request.method == "POST"
        ):
            page.reload()  # the browser posts the same form again
        expect(page.locator("#image-panel .friendly-error")).to_contain_text("only doing it once")
        assert Asset.objects.count() == 1
        assert gate.balance_of(funded) == START_BALANCE - gate.cost_of("image")
    finally:
        context.close()


def test_keyboard_users_land_on_what_the_panel_shows_next(
    login, live_server, staff, funded, simulated, chain
):
    """The focused button is swapped away with its panel: focus moves to the result, the banner or the
    field to fix, so a keyboard or screen-reader user is not dropped at the top of the page."""
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    page.fill("#id_prompt", "Lemon tart")
    page.set_input_files(
        "#id_reference", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo"}]
    )
    button = page.locator("#image-panel button[type=submit]")
    button.focus()
    page.keyboard.press("Enter")  # the server refuses the file: focus goes to the field to fix
    expect(page.locator("#image-panel .form-error")).to_contain_text("isn't an image we can use")
    expect(page.locator("#id_reference")).to_be_focused()
    error_colour = page.locator("#image-panel .form-error").evaluate("el => getComputedStyle(el).color")
    assert error_colour == "rgb(122, 74, 0)"  # amber text, as calm as the banner: never red

    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#image-panel figure.result")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#image-panel figure.result").get_by_role("link", name="Edit")).to_be_focused()

    chain("chat", "gone")
    page.fill("#caption-panel textarea", "Autumn")
    page.locator("#caption-panel button[type=submit]").focus()
    page.keyboard.press("Enter")
    banner = page.locator("#caption-panel .friendly-error")
    expect(banner).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the "Show technical details" summary
    expect(banner.locator("details")).to_have_attribute("open", "")
    expect(banner.locator(".request-id")).to_be_visible()


def test_a_request_that_gets_no_usable_answer_shows_the_calm_banner_not_silence(
    login, live_server, staff, funded, simulated, screenshot
):
    """A proxy timeout, a crash or a dropped connection: htmx swaps nothing, so the page says so calmly."""
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    page.route("**/composer/image/", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.fill("#id_prompt", "Lemon tart")
    page.get_by_role("button", name="Generate image").click()
    banner = page.locator("#image-panel .friendly-error")
    expect(banner).to_have_class(re.compile(r"\bbanner-amber\b"))
    expect(banner).to_contain_text("Something went wrong on our side")
    expect(banner).to_be_focused()
    banner.get_by_text("Show technical details").click()
    expect(banner.locator("pre")).to_have_text("/composer/image/: HTTP 502")
    expect(page.get_by_role("button", name="Generate image")).to_be_enabled()
    screenshot("composer-no-answer")

    page.route("**/composer/caption/", lambda route: route.abort())
    page.fill("#caption-panel textarea", "Autumn")
    page.get_by_role("button", name="Write caption").click()
    expect(page.locator("#caption-panel .friendly-error")).to_contain_text("Something went wrong on our side")

    page.unroute("**/composer/image/")
    page.get_by_role("button", name="Generate image").click()  # trying again works, and the banner goes
    expect(page.locator("#image-panel figure.result")).to_be_visible()
    expect(page.locator("#image-panel .friendly-error")).to_have_count(0)
    assert gate.balance_of(funded) == START_BALANCE - gate.cost_of("image")
