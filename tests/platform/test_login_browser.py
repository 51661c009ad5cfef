from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_and_sees_the_venue_home(login, staff, venue, screenshot):
    page = login("sam", "pw-sam")
    assert page.locator("h1").inner_text() == "Chez A & Co"
    screenshot("venue-home")


def test_a_locked_out_login_is_a_calm_amber_page(page, live_server, staff, screenshot):
    for _ in range(5):  # LOGIN_FAILURE_LIMIT
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "sam")
        page.fill("#id_password", "not-it")
        page.click("button[type=submit]")
    banner = page.locator("#locked-out")
    assert "try again in 15 minutes" in banner.inner_text()
    assert banner.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(255, 247, 230)"  # --amber-bg
    screenshot("login-locked-out")
