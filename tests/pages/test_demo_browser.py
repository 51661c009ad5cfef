"""The demo as a new user meets it: log in as the owner, keep "Platform default", Generate works offline."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from resilience.defaults import DEMO_LABEL

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = settings.TESTING = False  # the pages as a deployment with DEBUG off serves them


@pytest.mark.parametrize("width", [1280, 390])
def test_platform_default_generates_offline(login, page, live_server, demo, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
    login("owner", "bite-the-menu-demo")

    page.goto(live_server.url + "/settings/ai/")
    for kind in ("image", "chat", "ocr", "embedding"):
        expect(page.locator(f"#id_{kind}")).to_have_value("")  # Platform default
    options = page.locator("#id_image option").all_inner_texts()
    assert [o for o in options if o.startswith(f"{DEMO_LABEL} · ok")] and not [
        o for o in options if "rate-limit" in o
    ]
    screenshot(f"demo-ai-settings-{width}")

    page.goto(live_server.url + "/composer/")
    page.locator("#image-panel textarea").fill("Steak frites on a bistro table")
    page.get_by_role("button", name="Generate image").click()
    expect(page.locator("#image-panel figure.result img")).to_be_visible()
    expect(page.locator("#image-panel .friendly-error")).to_have_count(0)
    screenshot(f"demo-generate-{width}")
