from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alerts.attempts import Attempt
from alerts.models import Alert
from alerts.record import record_exhaustion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_super_admin_expands_an_alert_and_acknowledges_it(
    login, live_server, superadmin, venue, seed_attempts, screenshot
):
    record_exhaustion(
        kind="chat",
        service="social.writeCaption",
        venue=None,
        attempts=[
            Attempt(
                "Claude Sonnet 4.6 via OpenRouter",
                "openrouter",
                "anthropic/claude-sonnet-4.6",
                "failed",
                "server",
                503,
                "upstream overloaded",
                1200,
            )
        ],
    )
    newest = record_exhaustion(
        kind="image", service="social.generateImage", venue=venue, attempts=seed_attempts, request_id="req-42"
    )

    page = login("root", "pw-root")
    page.goto(f"{live_server.url}/admin/super/alerts/")
    expect(page.locator("#alerts-badge")).to_have_text("2")

    row = page.locator(f"#alert-{newest.pk}")
    audit = row.locator(".attempts")
    expect(audit).to_be_hidden()
    row.locator("summary").focus()
    page.keyboard.press("Enter")  # a <details> row opens from the keyboard too
    expect(audit).to_be_visible()
    expect(audit).to_contain_text("KIE Nano Banana 2 → safety: content flagged as sensitive")
    expect(audit).to_contain_text("OpenAI gpt-image-2 → model_not_found (404): The model")
    expect(row).to_contain_text("Chez A & Co")
    screenshot("alerts-inbox")

    row.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#alerts-badge")).to_have_text("1")
    expect(page.locator(".messagelist")).to_contain_text("Alert acknowledged.")
    expect(page.locator(f"#alert-{newest.pk}")).to_contain_text("Acknowledged")
    assert Alert.objects.get(pk=newest.pk).acknowledged_by_id == superadmin.pk

    page.get_by_role("button", name="Acknowledge all…").click()
    page.get_by_role("button", name="Yes, acknowledge 1 alert").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#alerts-badge")).to_have_count(0)
    expect(page.locator("#nav-alerts")).to_have_text(re.compile(r"^\s*Alerts\s*$"))
    screenshot("alerts-inbox-acknowledged")
