"""Every id on a venue page is unique, so each label focuses its own field (the Composer has two prompts)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.pages.test_responsive_browser import venue_pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DUPLICATE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll('[id]')) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_repeats_an_id_and_the_caption_label_focuses_the_caption(
    login, page, live_server, owner, funded, simulated, width, screenshot
):
    from composer import services

    image = services.generate_image(venue=funded, user=owner, prompt="Tagliatelle").asset
    page.set_viewport_size({"width": width, "height": 900})
    login("olive", "pw-olive")
    for name, path in venue_pages(image.pk).items():
        page.goto(live_server.url + path)
        assert page.evaluate(DUPLICATE_IDS) == [], name

    page.goto(live_server.url + "/composer/")
    page.get_by_text("What is the post about?").click()
    expect(page.locator("#caption-panel textarea")).to_be_focused()
    page.get_by_text("What should the photo show?").click()
    expect(page.locator("#image-panel textarea")).to_be_focused()
    screenshot(f"unique-ids-composer-{width}")
