from __future__ import annotations

import re

import pytest

from credits import gate
from credits.models import LedgerEntry, Wallet

pytestmark = pytest.mark.django_db

GRANT_URL = "/admin/credits/wallet/grant/"


@pytest.fixture
def admin_client(client, superadmin):
    client.force_login(superadmin)
    return client


def test_the_wallet_list_shows_balances_escaped(admin_client, venue):
    gate.grant(venue=venue, amount=42, note="")

    response = admin_client.get("/admin/credits/wallet/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Chez A &amp; Co" in body
    assert ">42<" in body
    assert "Grant credits" in body


@pytest.mark.parametrize("url", ["/admin/credits/ledgerentry/", "/admin/credits/hold/"])
def test_the_ledger_and_holds_are_read_only(admin_client, venue, url):
    gate.grant(venue=venue, amount=10, note="")
    gate.charge(venue=venue, kind="image", request_id="req-1")

    response = admin_client.get(url)

    assert response.status_code == 200
    assert "req-1" in response.content.decode()
    assert admin_client.get(url + "add/").status_code == 403
    entry = LedgerEntry.objects.first()
    assert (
        admin_client.post(f"/admin/credits/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        admin_client.post(f"/admin/credits/ledgerentry/{entry.pk}/change/", {"amount": 999}).status_code
        == 403
    )
    assert LedgerEntry.objects.filter(amount=999).count() == 0


def test_the_grant_form_grants_through_the_gate(admin_client, venue, other_venue, superadmin):
    response = admin_client.post(
        GRANT_URL, {"venues": [venue.pk, other_venue.pk], "amount": "30", "note": "Promo"}
    )

    assert response.status_code == 302
    assert (gate.balance_of(venue), gate.balance_of(other_venue)) == (30, 30)
    assert set(LedgerEntry.objects.values_list("kind", "amount", "note", "by")) == {
        ("grant", 30, "Promo", superadmin.pk)
    }


@pytest.mark.parametrize("amount", ["0", "-3", "2.5", "lots", "", str(gate.MAX_GRANT + 1)])
def test_the_grant_form_rejects_a_bad_amount_and_writes_nothing(admin_client, venue, amount):
    response = admin_client.post(GRANT_URL, {"venues": [venue.pk], "amount": amount, "note": ""})

    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert not LedgerEntry.objects.exists()
    assert not Wallet.objects.exists()


def test_the_grant_form_rejects_an_unknown_venue(admin_client, venue):
    response = admin_client.post(GRANT_URL, {"venues": [99999], "amount": "5"})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_the_grant_action_preselects_the_chosen_wallets(admin_client, venue):
    gate.grant(venue=venue, amount=1, note="")
    wallet = Wallet.objects.get()

    response = admin_client.post(
        "/admin/credits/wallet/", {"action": "grant_credits", "_selected_action": [wallet.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{GRANT_URL}?venues={venue.pk}"
    form_page = admin_client.get(response["Location"]).content.decode()
    assert re.search(rf'<input[^>]*value="{venue.pk}"[^>]*checked', form_page)


@pytest.mark.parametrize("persona", ["owner", "staff"])
def test_venue_people_cannot_open_the_grant_form(client, request, persona):
    user = request.getfixturevalue(persona)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)

    response = client.post(GRANT_URL, {"venues": [1], "amount": "5"})

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not LedgerEntry.objects.exists()


ADJUST_URL = "/admin/credits/wallet/adjust/"


def test_the_adjust_form_corrects_a_balance_through_the_gate(admin_client, venue, superadmin):
    gate.grant(venue=venue, amount=10, note="")

    response = admin_client.post(ADJUST_URL, {"venue": venue.pk, "amount": "-4", "note": "Double grant"})

    assert response.status_code == 302
    assert gate.balance_of(venue) == 6
    entry = LedgerEntry.objects.get(kind="adjustment")
    assert (entry.amount, entry.note, entry.by) == (-4, "Double grant", superadmin)


@pytest.mark.parametrize(
    ("amount", "note", "error"),
    [
        ("0", "x", "can&#x27;t be zero"),
        ("-11", "x", "below zero"),
        ("1.5", "x", "whole number"),
        ("3", "", "required"),
    ],
)
def test_the_adjust_form_rejects_bad_input_and_writes_nothing(admin_client, venue, amount, note, error):
    gate.grant(venue=venue, amount=10, note="")

    response = admin_client.post(ADJUST_URL, {"venue": venue.pk, "amount": amount, "note": note})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert gate.balance_of(venue) == 10
    assert LedgerEntry.objects.count() == 1
