"""Provider health and "Test candidate" in a real browser (screenshots in artifacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from observe.demo import seed_week
from resilience import health
from resilience.chains import reset_chain
from resilience.defaults import DEFAULT_CHAINS
from resilience.models import ChainCandidate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_page(login, superadmin):
    for kind in DEFAULT_CHAINS:  # transaction=True flushed the seeded chains
        reset_chain(kind)
    return login("root", "pw-root")


def test_a_seeded_week_reads_at_a_glance(admin_page, live_server, screenshot, settings):
    seed_week(days=7, scale=0.4)
    settings.BREAKER_FAILURE_THRESHOLD = 1
    health.record_outcome(health.candidate_key("kie", "nano-banana-pro", ""), ok=False, reason="timeout")
    page = admin_page
    for window in ("24h", "7d", "1h"):
        page.goto(f"{live_server.url}/admin/super/health/?window={window}")
        expect(page.locator("#kind-image svg.chart-calls")).to_be_visible()
        screenshot(f"provider-health-{window}")
    expect(page.locator("#kind-image .ph-breaker-open")).to_have_text("open")
    page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute("aria-current", "page")


def test_test_candidate_shows_the_result_inline(admin_page, live_server, screenshot):
    ChainCandidate.objects.filter(kind="chat").delete()
    for priority, (label, model) in enumerate([("Sim answers", "ok"), ("Sim refuses", "sensitive")], start=1):
        ChainCandidate.objects.create(
            kind="chat", priority=priority, label=label, provider="simulated", model=model
        )
    page = admin_page
    page.goto(f"{live_server.url}/admin/super/ai-fallbacks/chat/")
    cards = page.locator("#fb-cards > li.fb-card")
    cards.nth(0).get_by_role("button", name="Test candidate").click()
    expect(cards.nth(0).locator(".fb-probe-result")).to_contain_text("✓ Answered in")
    cards.nth(1).get_by_role("button", name="Test candidate").click()
    expect(cards.nth(1).locator(".fb-probe-result")).to_contain_text("✗ safety")
    expect(page.locator("#fb-dirty")).to_be_hidden()  # testing changes nothing to save
    screenshot("ai-fallbacks-test-candidate")
