from __future__ import annotations

import pytest
from django.http import Http404

from bitethemenu.access import get_venue_for_member, is_venue_owner


def test_login_page_renders_for_anonymous_visitors(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_home_redirects_anonymous_visitors_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_staff_sees_their_venue_home_after_logging_in(client, staff, venue):
    response = client.post("/login/", {"username": "sam", "password": "pw-sam"}, follow=True)
    assert response.status_code == 200
    assert "Chez A &amp; Co" in response.content.decode()  # escaped, not raw


def test_wrong_password_shows_a_calm_error(client, staff):
    response = client.post("/login/", {"username": "sam", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_switcher_appears_only_for_people_in_several_venues(client, staff, venue, other_venue):
    client.force_login(staff)
    assert b"venue-switch" not in client.get("/").content
    from bitethemenu.models import Membership

    Membership.objects.create(user=staff, venue=other_venue)
    page = client.get("/").content.decode()
    assert 'id="venue-switch"' in page
    response = client.post("/venue/switch/", {"venue": "bar-b", "next": "/"}, follow=True)
    assert "<h1>Bar B</h1>" in response.content.decode()


def test_switching_to_a_venue_you_are_not_in_is_404(client, staff, other_venue):
    client.force_login(staff)
    assert client.post("/venue/switch/", {"venue": "bar-b"}).status_code == 404


def test_switch_ignores_offsite_next_urls(client, staff, venue):
    client.force_login(staff)
    response = client.post("/venue/switch/", {"venue": "chez-a", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_access_helper_hides_other_venues(staff, outsider, venue, other_venue):
    assert get_venue_for_member(staff, "chez-a") == venue
    with pytest.raises(Http404):
        get_venue_for_member(staff, "bar-b")
    assert not is_venue_owner(staff, venue)
    assert is_venue_owner(outsider, other_venue)


def test_venue_staff_cannot_enter_the_admin_even_with_is_staff(client, staff):
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_superadmin_enters_the_admin(client, superadmin):
    client.force_login(superadmin)
    assert client.get("/admin/").status_code == 200
