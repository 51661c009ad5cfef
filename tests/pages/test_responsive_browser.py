"""Every venue page on a phone (390 × 844) and on a desktop: no sideways scroll, the nav collapses."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from composer import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def some_work(staff, funded, simulated):
    """An image and a caption in the Library, so the library and editor pages have content."""
    image = services.generate_image(venue=funded, user=staff, prompt="Tagliatelle with wild mushrooms").asset
    services.write_caption(venue=funded, user=staff, prompt="Autumn menu launch, warm and short")
    return image


def venue_pages(image_id: int) -> dict[str, str]:
    return {
        "home": "/",
        "composer": "/composer/",
        "library": "/library/",
        "archived": "/library/archived/",
        "editor": f"/library/{image_id}/edit/",
        "menu-import": "/menu/import/",
        "ai-settings": "/settings/ai/",
        "credits": "/credits/",
    }


def assert_no_sideways_scroll(page, name: str) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name} scrolls sideways: {widths[0]} px wide in a {widths[1]} px window"


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_every_venue_page_fits_the_screen(login, page, live_server, owner, some_work, screenshot, size):
    page.set_viewport_size(PHONE if size == "phone" else DESKTOP)
    login("olive", "pw-olive")
    for name, path in venue_pages(some_work.pk).items():
        page.goto(live_server.url + path)
        assert_no_sideways_scroll(page, name)
        screenshot(f"responsive-{size}-{name}")


def test_on_a_phone_the_nav_is_a_menu_that_opens(login, page, live_server, owner, some_work, screenshot):
    page.set_viewport_size(PHONE)
    login("olive", "pw-olive")
    page.goto(live_server.url + "/composer/")
    library_link = page.get_by_role("link", name="Library", exact=True)
    expect(library_link).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(library_link).to_be_visible()
    screenshot("responsive-phone-nav-open")
    assert_no_sideways_scroll(page, "nav open")
    library_link.click()
    expect(page).to_have_url(live_server.url + "/library/")


def test_on_a_desktop_the_nav_is_a_row_of_links(login, page, live_server, owner, some_work):
    login("olive", "pw-olive")
    page.goto(live_server.url + "/composer/")
    expect(page.get_by_role("link", name="Library", exact=True)).to_be_visible()
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()


def test_the_venue_switcher_works_without_inline_script(
    login, page, live_server, owner, other_venue, some_work
):
    from bitethemenu.models import Membership

    Membership.objects.create(user=owner, venue=other_venue, role=Membership.Role.STAFF)
    page.set_viewport_size(PHONE)
    login("olive", "pw-olive")
    page.goto(live_server.url + "/library/")
    assert page.locator("[onchange], [onclick], [onsubmit]").count() == 0
    page.get_by_text("Menu", exact=True).click()
    page.select_option("#venue-switch", other_venue.slug)
    page.wait_for_url(live_server.url + "/library/")
    expect(page.locator("#venue-switch")).to_have_value(other_venue.slug)


def test_every_page_has_a_favicon(page, live_server, login, owner, some_work):
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    login("olive", "pw-olive")
    page.goto(live_server.url + "/composer/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + icon).ok
    assert missing == []
