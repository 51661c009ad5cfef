from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_logs_in_and_sees_the_venue_home(login, staff, venue, screenshot):
    page = login("sam", "pw-sam")
    assert page.locator("h1").inner_text() == "Chez A & Co"
    screenshot("venue-home")
