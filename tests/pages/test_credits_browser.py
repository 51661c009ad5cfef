"""The owner's credits history: 25 entries a page, short request ids, a favicon, at desktop and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from credits import gate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_history_pages_through_25_at_a_time(login, page, live_server, owner, venue, width, screenshot):
    gate.grant(venue=venue, amount=100, note="Opening credits")
    for n in range(30):
        gate.charge(venue=venue, kind="chat", request_id=f"{n:02d}c0ffee0123456789abcdef")
    page.set_viewport_size({"width": width, "height": 900})
    login("olive", "pw-olive")

    page.goto(live_server.url + "/credits/")
    rows = page.locator(".ledger tbody tr")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("Request 29c0ffee…")
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(f"credits-history-{width}")

    page.get_by_role("link", name="Older →").click()
    expect(rows).to_have_count(6)
    expect(rows.last).to_contain_text("Opening credits")
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
