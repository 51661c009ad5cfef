"""The Content-Security-Policy holds on every main page without breaking it: htmx swaps, the venue
switcher, the Django admin, AI Fallbacks and Swagger UI all work, and the browser reports no violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from bitethemenu.models import Membership
from credits import gate
from resilience.models import ChainCandidate
from resilience.types import SERVICE_KINDS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Collects every violation the page reports, from the first script on (init scripts are not subject
# to the page's CSP).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`));
"""

VENUE_PAGES = ["/", "/composer/", "/library/", "/settings/ai/", "/menu/import/", "/credits/"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/super/ai-fallbacks/",
    "/admin/super/ai-fallbacks/chat/",
    "/admin/super/alerts/",
    "/admin/bitethemenu/apikey/add/",
    "/admin/credits/wallet/grant/",
    "/admin/axes/accessattempt/",
]


@pytest.fixture
def violations(page):
    console: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda msg: (
            console.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused to" in msg.text
            else None
        ),
    )

    def _seen() -> list[str]:
        return console + page.evaluate("window.__cspViolations || []")

    return _seen


@pytest.fixture
def root_at_two_venues(superadmin, venue, other_venue):
    for place in (venue, other_venue):
        Membership.objects.create(user=superadmin, venue=place, role=Membership.Role.OWNER)
        gate.grant(venue=place, amount=50, note="test")
    for kind in SERVICE_KINDS:
        ChainCandidate.objects.filter(kind=kind).delete()
        ChainCandidate.objects.create(kind=kind, priority=1, label="Sim ok", provider="simulated", model="ok")
    return superadmin


def test_the_main_pages_load_with_no_csp_violation(
    login, live_server, page, violations, root_at_two_venues, screenshot, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    login("root", "pw-root")
    response = page.goto(f"{live_server.url}/")
    assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
    assert "camera=()" in response.headers["permissions-policy"]
    venue_change = f"/admin/bitethemenu/venue/{root_at_two_venues.memberships.first().venue_id}/change/"
    for path in VENUE_PAGES + ADMIN_PAGES + [venue_change]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        assert violations() == [], path

    # htmx still swaps: generate an image on the Composer; the access-checked image loads.
    page.goto(f"{live_server.url}/composer/")
    page.fill("#id_prompt", "Steam rising from a bowl of ramen")
    page.get_by_role("button", name="Generate image").click()
    image = page.locator("#image-panel figure.result img")
    expect(image).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    screenshot("csp-composer")

    # The venue switcher (a static script now, not an onchange attribute) still switches.
    expect(page.locator("#venue-switch")).to_have_value("bar-b")  # the first by name
    page.select_option("#venue-switch", "chez-a")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#venue-switch")).to_have_value("chez-a")

    # Swagger UI renders the API from its static bundle.
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    screenshot("csp-swagger")
    assert violations() == []


def test_an_inline_script_without_the_nonce_is_blocked(live_server, page, violations, db):
    page.goto(f"{live_server.url}/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.body.append(s); }"
    )
    assert page.evaluate("window.injected === undefined")
    assert any("script-src" in v for v in violations())
