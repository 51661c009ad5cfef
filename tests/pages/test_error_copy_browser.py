"""The amber banner's advice fits the cause, and the technical details say why each leg was skipped."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from resilience.chains import reset_chain

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def generate(page, live_server) -> object:
    page.goto(live_server.url + "/composer/")
    page.locator("#image-panel textarea").fill("Meat pasta, close up")
    page.get_by_role("button", name="Generate image").click()
    banner = page.locator("#image-panel .friendly-error")
    expect(banner).to_be_visible()
    return banner


@pytest.mark.parametrize("width", [1280, 390])
def test_no_keys_set_is_our_problem_not_the_venues(
    login, page, live_server, staff, funded, width, screenshot
):
    reset_chain("image")  # the platform's real providers, none of whose keys is set
    page.set_viewport_size({"width": width, "height": 900})
    login("sam", "pw-sam")

    banner = generate(page, live_server)

    expect(banner).to_contain_text("Our team has been alerted — nothing to change on your side.")
    expect(banner).not_to_contain_text("style")
    banner.get_by_text("Show technical details").click()
    expect(banner.locator("pre")).to_contain_text("KIE Nano Banana 2 → skipped: KIE_API_KEY not set")
    expect(banner.locator("pre")).to_contain_text("OpenAI gpt-image-2 → skipped: OPENAI_API_KEY not set")
    screenshot(f"error-copy-configuration-{width}")


@pytest.mark.parametrize(
    ("models", "advice", "name"),
    [
        (("server-error",), "Try again in a minute.", "outage"),
        (("sensitive", "gone"), "Try rephrasing the description", "content"),
    ],
)
@pytest.mark.parametrize("width", [1280, 390])
def test_outage_and_safety_get_their_own_advice(
    login, page, live_server, staff, funded, chain, models, advice, name, width, screenshot
):
    chain("image", *models)
    page.set_viewport_size({"width": width, "height": 900})
    login("sam", "pw-sam")

    banner = generate(page, live_server)

    expect(banner).to_contain_text(advice)
    screenshot(f"error-copy-{name}-{width}")
