"""The seed's worked example, "the dall-e-3 outage", played end to end through the real UI.

Two people, two browser contexts, offline on the `simulated` provider:
- the image chain is "KIE Nano Banana 2" (refuses as `sensitive`) then "OpenAI dall-e-3" (`gone`, a 404);
- the operator (staff) hits Generate: a calm amber banner, a request id, no credits taken;
- the super admin sees the alert with both legs of the cascade, swaps dall-e-3's model on the
  Image tab of AI Fallbacks and saves: no code deploy;
- the operator hits Generate again: the image arrives and exactly one image's cost is taken;
- the super admin acknowledges the alert and the badge goes.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from alerts.models import Alert
from composer.models import Asset
from credits import gate
from resilience.models import ChainCandidate, VenuePrimary
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

START_BALANCE = 100
CALM = "We couldn't generate your image right now. Try rephrasing the description, or pick a different style."
PROMPT = "Meat pasta, close up"


@pytest.fixture
def outage(settings, tmp_path, venue):
    """The Tuesday-afternoon state: KIE refuses, dall-e-3 is gone; the venue has credits, no own primary."""
    assert settings.SIMULATED_PROVIDER_ENABLED
    settings.MEDIA_ROOT = tmp_path / "media"
    # transaction=True flushed the migration-seeded chains: build the ones this story needs.
    ChainCandidate.objects.filter(kind__in=["image", "embedding"]).delete()
    ChainCandidate.objects.create(
        kind="image", priority=1, label="KIE Nano Banana 2", provider="simulated", model="sensitive"
    )
    ChainCandidate.objects.create(
        kind="image", priority=2, label="OpenAI dall-e-3", provider="simulated", model="gone"
    )
    # Library indexing after a generated image stays offline and quiet.
    ChainCandidate.objects.create(
        kind="embedding", priority=1, label="Sim embeddings", provider="simulated", model="ok"
    )
    VenuePrimary.objects.filter(venue=venue).delete()  # the chain, not a venue primary, answers
    gate.grant(venue=venue, amount=START_BALANCE, note="test credits")
    return venue


@pytest.fixture
def admin_page(_browser, live_server, superadmin):
    """A second, separate browser context: the super admin, logged in through the real form."""
    context = _browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw-root")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    yield page
    context.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_dall_e_3_outage_is_fixed_by_the_super_admin_without_a_deploy(
    login, live_server, staff, outage, admin_page
):
    image_cost = settings.CREDIT_COSTS["image"]
    assert image_cost > 0

    # 1. The operator hits Generate while the whole image chain is failing.
    operator = login("sam", "pw-sam")
    operator.goto(f"{live_server.url}/composer/")
    balance = operator.locator("#credit-balance")
    expect(balance).to_have_text(f"{START_BALANCE} credits")
    operator.get_by_label("What should the photo show?").fill(PROMPT)
    generate = operator.get_by_role("button", name="Generate image")
    generate.click()

    panel = operator.locator("#image-panel")
    banner = panel.locator(".friendly-error")
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_have_class(re.compile(r"\bbanner-amber\b"))
    expect(banner.locator(".banner-message")).to_have_text(CALM)
    expect(operator.locator(".banner-red")).to_have_count(0)
    expect(panel.locator("figure.result")).to_have_count(0)
    request_id = banner.locator(".request-id")
    expect(request_id).to_be_hidden()
    banner.get_by_text("Show technical details").click()
    expect(request_id).to_be_visible()
    expect(request_id).to_have_text(re.compile(r"\S+"))
    shown_request_id = request_id.inner_text().strip()
    # No provider internals in the operator's calm copy.
    expect(banner.locator(".banner-message")).not_to_contain_text("dall-e-3")
    expect(balance).to_have_text(f"{START_BALANCE} credits")  # refunded: not charged for a failure
    assert gate.balance_of(outage) == START_BALANCE and not Asset.objects.exists()
    expect(generate).to_be_enabled()
    _shot(operator, "worked-example-1-operator-banner")

    # 2. The super admin sees the alert, with the full cascade audit.
    alert = Alert.objects.get()
    assert alert.request_id == shown_request_id
    admin = admin_page
    admin.goto(f"{live_server.url}/admin/super/alerts/")
    expect(admin.locator("#alerts-badge")).to_have_text("1")
    row = admin.locator(f"#alert-{alert.pk}")
    expect(row).to_contain_text("social.generateImage")
    expect(row.locator(".dot")).to_be_visible()  # unacknowledged
    audit = row.locator(".attempts")
    expect(audit).to_be_hidden()
    row.locator("summary").click()
    expect(audit).to_be_visible()
    legs = audit.locator("li .attempt-line")
    expect(legs).to_have_count(2)
    # Each leg in the same words as the alert's summary line: "label → reason (status): message".
    expect(legs.nth(0)).to_have_text(
        "KIE Nano Banana 2 → safety: The input or output was flagged as sensitive (simulated)."
    )
    expect(legs.nth(1)).to_have_text(
        "OpenAI dall-e-3 → model_not_found (404): The model `gone` does not exist (simulated)."
    )
    expect(row.locator(".last-error")).to_contain_text(
        "OpenAI dall-e-3 → model_not_found (404)"
    )  # the fixable one
    expect(audit).to_contain_text("does not exist")
    expect(row).to_contain_text("Chez A & Co")
    expect(row).to_contain_text(shown_request_id)  # the operator's ticket finds this row
    _shot(admin, "worked-example-2-alert")

    # 3. …opens AI Fallbacks (Image tab), swaps dall-e-3's model for a working one, saves.
    admin.goto(f"{live_server.url}/admin/super/ai-fallbacks/")
    admin.wait_for_load_state("networkidle")
    expect(admin.locator(".fb-tab.is-current")).to_contain_text("Image")
    dalle = admin.locator("#fb-cards > li.fb-card").filter(
        has=admin.get_by_role("heading", name="Candidate 2: OpenAI dall-e-3")
    )
    expect(dalle).to_have_count(1)
    model = dalle.get_by_label("Model", exact=True)
    expect(model).to_have_value("gone")
    model.select_option("ok")
    # The card re-renders for the new model: wait for it before saving.
    expect(admin.locator("#fb-dirty")).to_be_visible()
    expect(admin.locator("#fb-cards > li.fb-card").nth(1).get_by_label("Model", exact=True)).to_have_value(
        "ok"
    )
    admin.get_by_role("button", name="Save changes").click()
    admin.wait_for_load_state("networkidle")
    expect(admin.locator(".messagelist")).to_contain_text("Saved the Image chain")
    expect(admin.locator(".messagelist")).to_contain_text("model gone → ok")
    expect(admin.locator("#fb-dirty")).to_be_hidden()
    saved_card = admin.locator("#fb-cards > li.fb-card").nth(1)
    expect(saved_card.get_by_label("Display label")).to_have_value("OpenAI dall-e-3")
    expect(saved_card.get_by_label("Model", exact=True)).to_have_value("ok")
    assert list(
        ChainCandidate.objects.filter(kind="image").order_by("priority").values_list("label", "model")
    ) == [("KIE Nano Banana 2", "sensitive"), ("OpenAI dall-e-3", "ok")]
    _shot(admin, "worked-example-3-chain-fixed")

    # 4. The operator, still on the same page, hits Generate again: the image arrives.
    expect(operator.get_by_label("What should the photo show?")).to_have_value(
        PROMPT
    )  # what they typed is still there
    generate = operator.get_by_role("button", name="Generate image")
    generate.click()
    result = panel.locator("figure.result")
    expect(result.locator("img")).to_be_visible(timeout=20_000)
    expect(panel.locator(".friendly-error")).to_have_count(0)
    operator.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.locator("img").element_handle()
    )
    asset = Asset.objects.get()
    expect(result).to_contain_text(f"Saved to your Library as #{asset.pk}")
    expect(panel).not_to_contain_text("dall-e-3")  # the operator never learns which leg answered
    expect(balance).to_have_text(f"{START_BALANCE - image_cost} credits")
    assert gate.balance_of(outage) == START_BALANCE - image_cost
    assert Alert.objects.count() == 1  # a chain that answered raises no alert
    _shot(operator, "worked-example-4-operator-success")

    # 5. The super admin acknowledges the alert: the badge goes.
    admin.goto(f"{live_server.url}/admin/super/alerts/")
    expect(admin.locator("#alerts-badge")).to_have_text("1")
    row = admin.locator(f"#alert-{alert.pk}")
    row.get_by_role("button", name=re.compile(r"^Acknowledge the Image alert")).click()
    admin.wait_for_load_state("networkidle")
    expect(admin.locator(".messagelist")).to_contain_text("Alert acknowledged.")
    expect(admin.locator("#alerts-badge")).to_have_count(0)
    expect(admin.locator("#unack-count")).to_have_text("0")
    expect(admin.locator(f"#alert-{alert.pk}")).to_contain_text("Acknowledged")
    alert.refresh_from_db()
    assert alert.acknowledged_by.get_username() == "root"
