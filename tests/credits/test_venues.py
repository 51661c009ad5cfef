"""credits.venues.open_venue: the one way a venue is created, and every surface that calls it."""

from __future__ import annotations

import pytest

from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from credits import venues
from credits.gate import balance_of
from credits.models import LedgerEntry

pytestmark = pytest.mark.django_db


def test_it_opens_a_venue_with_starting_credits(superadmin):
    venue = venues.open_venue(name=" Chez A ", slug="chez-a", credits=25, by=superadmin)
    assert (venue.name, venue.slug, balance_of(venue)) == ("Chez A", "chez-a", 25)
    assert LedgerEntry.objects.get(venue=venue).by == superadmin


def test_zero_credits_writes_no_ledger_entry():
    venue = venues.open_venue(name="Bar B", slug="bar-b")
    assert balance_of(venue) == 0 and not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    ("name", "slug", "credits"),
    [
        ("", "a", 0),
        ("x" * 201, "a", 0),
        ("A\nB", "a", 0),
        ("A", "not a slug", 0),
        ("A", "a", -1),
        ("A", "a", 10**7),
    ],
)
def test_bad_input_writes_nothing(name, slug, credits):
    with pytest.raises(FriendlyError) as refused:
        venues.open_venue(name=name, slug=slug, credits=credits)
    assert refused.value.code == "invalid_input"
    assert not Venue.objects.exists()


def test_a_taken_slug_is_a_conflict_and_grants_nothing(venue):
    with pytest.raises(FriendlyError) as refused:
        venues.open_venue(name="Again", slug=venue.slug, credits=5)
    assert (refused.value.code, refused.value.http_status) == ("conflict", 409)
    assert balance_of(venue) == 0


# --- Every caller ---------------------------------------------------------------------------------


def test_the_api_opens_venues_through_it(monkeypatch, client, superadmin):
    from bitethemenu.models import ApiKey

    calls = []
    monkeypatch.setattr("credits.api.open_venue", lambda **kw: calls.append(kw) or venues.open_venue(**kw))
    _, raw = ApiKey.mint(owner=superadmin)
    response = client.post(
        "/api/v1/admin/venues",
        {"name": "Chez A", "slug": "chez-a", "credits": 3},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201 and response.json()["balance"] == 3
    assert calls == [{"name": "Chez A", "slug": "chez-a", "credits": 3, "by": superadmin}]


def test_the_admin_opens_venues_through_it(monkeypatch, admin_client):
    calls = []
    monkeypatch.setattr("credits.admin.open_venue", lambda **kw: calls.append(kw) or venues.open_venue(**kw))
    response = admin_client.post(
        "/admin/credits/wallet/open-venue/", {"name": "Chez A", "slug": "chez-a", "credits": 7}
    )
    venue = Venue.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/admin/bitethemenu/venue/{venue.pk}/change/"
    )
    assert balance_of(venue) == 7 and len(calls) == 1


def test_the_admin_page_shows_a_taken_slug_on_the_field(admin_client, venue):
    response = admin_client.post(
        "/admin/credits/wallet/open-venue/", {"name": "X", "slug": venue.slug, "credits": 0}
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Venue.objects.count() == 1


def test_django_admins_own_add_venue_is_off_and_points_to_open_a_venue(admin_client, venue):
    assert admin_client.get("/admin/bitethemenu/venue/add/").status_code == 403
    page = admin_client.get("/admin/bitethemenu/venue/").content.decode()
    assert "/admin/credits/wallet/open-venue/" in page
    # Renaming still works; the slug (the API address) does not change.
    response = admin_client.post(
        f"/admin/bitethemenu/venue/{venue.pk}/change/",
        {
            "name": "Chez A renamed",
            "slug": "hijacked",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302
    venue.refresh_from_db()
    assert (venue.name, venue.slug) == ("Chez A renamed", "chez-a")
