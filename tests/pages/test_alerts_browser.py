"""The Alerts inbox as a super admin reads it: the failure that mattered, the venue, a confirmed Acknowledge all."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from alerts.attempts import Attempt
from alerts.models import Alert
from alerts.record import record_exhaustion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def alerts(venue, other_venue):
    primary_down = [
        Attempt("Primary", "openai", "gpt-4o", "failed", "server", 500, "upstream error", 40),
        Attempt(
            "DeepSeek",
            "deepseek",
            "deepseek-v4-flash",
            "skipped",
            "skipped",
            None,
            "DEEPSEEK_API_KEY not set",
        ),
    ]
    ours = record_exhaustion(kind="chat", service="social.writeCaption", venue=venue, attempts=primary_down)
    theirs = record_exhaustion(
        kind="chat", service="social.writeCaption", venue=other_venue, attempts=primary_down
    )
    return ours, theirs


@pytest.mark.parametrize("width", [1280, 390])
def test_the_inbox_names_the_failure_the_venue_and_asks_before_acknowledging_all(
    login, page, live_server, superadmin, alerts, venue, width, screenshot
):
    ours, theirs = alerts
    page.set_viewport_size({"width": width, "height": 900})
    login("root", "pw-root")
    page.goto(live_server.url + "/admin/super/alerts/")

    row = page.locator(f"#alert-{ours.pk}")
    expect(row.locator(".last-error")).to_have_text("Primary → server (500): upstream error")
    expect(row.locator(".venue")).to_have_text("Chez A & Co")
    row.locator("summary").click()
    expect(row.locator(".attempts")).to_contain_text("DeepSeek → skipped: DEEPSEEK_API_KEY not set")
    screenshot(f"alerts-inbox-{width}")

    page.select_option("select[name=venue]", venue.slug)
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f"#alert-{ours.pk}")).to_be_visible()
    expect(page.locator(f"#alert-{theirs.pk}")).to_have_count(0)

    page.get_by_role("button", name="Acknowledge all…").click()
    expect(page.locator("#ack-all-count")).to_have_text("2")
    screenshot(f"alerts-ack-all-confirm-{width}")
    page.get_by_role("link", name="No, go back").click()
    assert Alert.objects.unacknowledged().count() == 2
    expect(page.locator("select[name=venue]")).to_have_value(venue.slug)  # back to the filtered view

    page.get_by_role("button", name="Acknowledge all…").click()
    page.get_by_role("button", name="Yes, acknowledge 2 alerts").click()
    expect(page.locator(".messagelist")).to_contain_text("Acknowledged 2 alerts.")
    assert Alert.objects.unacknowledged().count() == 0
