"""The price a venue pays shows on each AI Fallbacks card and in the venue's AI settings (browser)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bitethemenu.models import Membership, Venue
from resilience.chains import reset_chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cards_and_ai_settings_show_prices(live_server, login, django_user_model, screenshot):
    for kind in ("image", "chat", "ocr", "embedding"):
        reset_chain(kind)
    django_user_model.objects.create_superuser(username="root", password="pw-root-123", email="r@x.io")
    page = login("root", "pw-root-123")
    page.goto(f"{live_server.url}/admin/super/ai-fallbacks/image/")
    prices = page.locator(".fb-price")
    expect(prices.nth(1)).to_contain_text("8 credits")
    expect(prices.nth(1)).to_contain_text("Platform default: 4")
    screenshot("ai-fallbacks-prices")

    venue = Venue.objects.create(name="Chez A", slug="chez-a")
    owner = django_user_model.objects.create_user(username="olive", password="pw-olive-123")
    Membership.objects.create(user=owner, venue=venue, role=Membership.Role.OWNER)
    page.context.clear_cookies()
    page = login("olive", "pw-olive-123")
    page.goto(f"{live_server.url}/settings/ai/")
    expect(page.locator("#id_image option", has_text="gpt-image-2 — 12 credits").first).to_be_attached()
    screenshot("ai-settings-prices")
