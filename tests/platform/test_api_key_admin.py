"""Minting and revoking API keys in the admin: the secret is shown once on the page, never in a
cookie, and a revoked key stays revoked and stays its owner's."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bitethemenu.models import ApiKey

pytestmark = pytest.mark.django_db
ADD = "/admin/bitethemenu/apikey/add/"


@pytest.fixture
def as_root(client, superadmin):
    client.force_login(superadmin)
    return client


def test_a_minted_key_is_shown_once_on_the_page_and_never_in_a_cookie(as_root, owner, venue):
    response = as_root.post(ADD, {"name": "POS", "owner": owner.pk, "venue": venue.pk})
    assert response.status_code == 200
    key = ApiKey.objects.get()
    raw = response.context["raw_key"]
    assert ApiKey.hash(raw) == key.hashed_secret
    assert raw in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    cookies = " ".join(morsel.value for morsel in response.cookies.values())
    assert raw not in cookies and "messages" not in response.cookies
    # The next page knows nothing of it.
    assert raw not in as_root.get("/admin/bitethemenu/apikey/").content.decode()
    # And it works as a key.
    assert (
        as_root.get("/api/v1/venues/chez-a/credits", headers={"Authorization": f"Bearer {raw}"}).status_code
        == 200
    )


def test_a_revoked_key_cannot_be_un_revoked_renamed_or_re_owned(as_root, owner, outsider, venue):
    key, _ = ApiKey.mint(owner=owner, venue=venue, name="POS")
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    change = f"/admin/bitethemenu/apikey/{key.pk}/change/"
    as_root.post(
        change, {"name": "back", "owner": outsider.pk, "venue": "", "revoked_at_0": "", "revoked_at_1": ""}
    )
    key.refresh_from_db()
    assert key.is_revoked and key.owner == owner and key.venue == venue and key.name == "POS"
    assert 'name="owner"' not in as_root.get(change).content.decode()  # shown read-only


def test_a_live_key_can_be_renamed_but_not_re_owned_or_revoked_by_editing(as_root, owner, outsider, venue):
    key, _ = ApiKey.mint(owner=owner, venue=venue, name="POS")
    change = f"/admin/bitethemenu/apikey/{key.pk}/change/"
    response = as_root.post(change, {"name": "Till", "owner": outsider.pk, "venue": ""})
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.name, key.owner, key.venue, key.is_revoked) == ("Till", owner, venue, False)


def test_the_revoke_action_is_final(as_root, owner, venue):
    key, _ = ApiKey.mint(owner=owner, venue=venue)
    as_root.post("/admin/bitethemenu/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.is_revoked
