"""The Library as a venue uses it: edit keeps the title, archive and restore, copy text, correct a menu."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from composer import services
from composer.models import Asset
from tests.composer.images import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def phone_or_desktop(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])


@pytest.mark.parametrize("width", [1280, 390])
def test_an_edit_is_found_by_the_dishs_name(
    login, page, live_server, staff, funded, simulated, width, screenshot
):
    image = services.generate_image(venue=funded, user=staff, prompt="Lemon tart with berries").asset
    phone_or_desktop(page, width)
    login("sam", "pw-sam")

    page.goto(f"{live_server.url}/library/{image.pk}/edit/")
    page.locator("#id_instruction").fill("Warmer light")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".result img")).to_be_visible()
    edited = Asset.objects.exclude(pk=image.pk).get()
    assert edited.prompt == "Lemon tart with berries — edit: Warmer light"

    page.goto(f"{live_server.url}/library/?q=lemon+tart")
    expect(page.locator(f"#asset-{edited.pk}")).to_contain_text(
        "Lemon tart with berries — edit: Warmer light"
    )
    screenshot(f"library-edit-title-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_archive_restore_and_copy(login, page, live_server, staff, funded, simulated, width, screenshot):
    image = services.generate_image(venue=funded, user=staff, prompt="Steak frites").asset
    caption = services.write_caption(venue=funded, user=staff, prompt="Steak night is back").asset
    phone_or_desktop(page, width)
    login("sam", "pw-sam")
    page.goto(f"{live_server.url}/library/")

    page.locator(f"#asset-{caption.pk}").get_by_role("button", name="Copy text").click()
    expect(page.locator(f"#asset-{caption.pk}").get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == caption.text
    screenshot(f"library-copied-{width}")

    page.locator(f"#asset-{image.pk}").get_by_role("button", name="Archive").click()
    expect(page.locator(".messages")).to_contain_text(f"Archived #{image.pk}")
    expect(page.locator(f"#asset-{image.pk}")).to_have_count(0)
    screenshot(f"library-archived-message-{width}")

    page.get_by_role("link", name="Archived").click()
    expect(page.locator(f"#asset-{image.pk}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(f"library-archived-page-{width}")
    page.locator(f"#asset-{image.pk}").get_by_role("button", name="Restore").click()
    expect(page.locator(".messages")).to_contain_text(f"Restored #{image.pk}")
    page.goto(f"{live_server.url}/library/")
    expect(page.locator(f"#asset-{image.pk} img")).to_be_visible()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_menu_import_is_corrected_saved_and_copied(
    login, page, live_server, staff, funded, simulated, width, screenshot, tmp_path
):
    photo = tmp_path / "menu.png"
    photo.write_bytes(image_bytes(size=(640, 480)))
    phone_or_desktop(page, width)
    login("sam", "pw-sam")
    page.goto(f"{live_server.url}/menu/import/")

    page.set_input_files("#id_document", str(photo))
    page.get_by_role("button", name="Import menu").click()
    text = page.locator("#menu-text")
    expect(text).to_be_editable()
    assert "a 640 × 480 PNG" in text.input_value()
    screenshot(f"menu-import-result-{width}")

    text.fill("SOUPS\nPumpkin soup — 7.50")
    page.get_by_role("button", name="Save text").click()
    expect(page.locator("#menu-text-panel .saved")).to_have_text("Saved.")
    assert Asset.objects.get(kind="ocr").text == "SOUPS\nPumpkin soup — 7.50"
    page.locator("#menu-text-panel").get_by_role("button", name="Copy text").click()
    assert page.evaluate("navigator.clipboard.readText()") == "SOUPS\nPumpkin soup — 7.50"
    screenshot(f"menu-import-saved-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_new_caption_can_be_copied_from_the_composer(
    login, page, live_server, staff, funded, simulated, width
):
    phone_or_desktop(page, width)
    login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    page.locator("#caption-panel textarea").fill("Pumpkin ravioli is back")
    page.get_by_role("button", name="Write caption").click()
    page.locator("#caption-panel").get_by_role("button", name="Copy text").click()
    assert "Pumpkin ravioli is back" in page.evaluate("navigator.clipboard.readText()")
