"""Library actions: an edit keeps the dish's title, archive/restore, corrected menu text, the simulated reader."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bitethemenu.errors import FriendlyError, InvalidInput
from composer import library_actions, services
from composer.models import Asset
from credits import gate
from resilience.providers.simulated import read_menu
from tests.composer.images import PDF_BYTES, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def image(funded, staff, simulated):
    return services.generate_image(venue=funded, user=staff, prompt="Tagliatelle with wild mushrooms").asset


def test_an_edit_keeps_the_originals_title_plus_the_instruction(funded, staff, image):
    edited = services.edit_image(venue=funded, user=staff, asset=image, instruction="Warmer light").asset
    again = services.edit_image(venue=funded, user=staff, asset=edited, instruction="Add basil").asset

    assert edited.prompt == "Tagliatelle with wild mushrooms — edit: Warmer light"
    assert (
        again.prompt == "Tagliatelle with wild mushrooms — edit: Add basil"
    )  # the dish, not a growing chain
    found = services.search_library(venue=funded, query="tagliatelle").items
    assert {edited.pk, again.pk, image.pk} <= {a.pk for a in found}


def test_archive_takes_an_asset_out_of_the_library_and_restore_puts_it_back(funded, image):
    library_actions.archive(venue=funded, asset_id=image.pk)

    assert image.pk not in [a.pk for a in services.search_library(venue=funded).items]
    assert image.pk not in [a.pk for a in services.search_library(venue=funded, query="tagliatelle").items]
    assert [a.pk for a in library_actions.archived_assets(venue=funded)] == [image.pk]
    assert Asset.objects.filter(pk=image.pk).exists()  # soft: nothing deleted

    library_actions.restore(venue=funded, asset_id=image.pk)

    assert image.pk in [a.pk for a in services.search_library(venue=funded).items]
    assert library_actions.archived_assets(venue=funded) == []


def test_another_venues_asset_cannot_be_archived(other_venue, image):
    with pytest.raises(FriendlyError) as caught:
        library_actions.archive(venue=other_venue, asset_id=image.pk)
    assert caught.value.http_status == 404
    assert Asset.objects.get(pk=image.pk).archived_at is None


def test_archive_and_restore_through_the_pages(client, staff, funded, image):
    client.force_login(staff)

    response = client.post(reverse("composer:archive", args=[image.pk]), {"next": "/library/?kind=image"})
    assert response.status_code == 302 and response["Location"] == "/library/?kind=image"
    assert f'id="asset-{image.pk}"' not in client.get("/library/").content.decode()
    archived = client.get("/library/archived/").content.decode()
    assert f'id="asset-{image.pk}"' in archived and "Restore" in archived

    client.post(reverse("composer:restore", args=[image.pk]))
    assert f'id="asset-{image.pk}"' in client.get("/library/").content.decode()


def test_archiving_needs_post_and_never_redirects_off_site(client, staff, image):
    client.force_login(staff)
    assert client.get(reverse("composer:archive", args=[image.pk])).status_code == 405
    response = client.post(reverse("composer:archive", args=[image.pk]), {"next": "//evil.example/"})
    assert response["Location"] == "/library/"


@pytest.fixture
def menu(funded, staff, simulated):
    return services.import_menu(
        venue=funded, user=staff, document=image_bytes(size=(640, 480)), mime="image/png"
    )


def test_a_corrected_menu_text_is_saved_free_of_charge(client, staff, funded, menu):
    client.force_login(staff)
    balance = gate.balance_of(funded)

    response = client.post(
        reverse("composer:menu-text", args=[menu.asset.pk]),
        {"text": "Soup of the day — 6.50\r\n"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200 and "Saved." in response.content.decode()
    assert Asset.objects.get(pk=menu.asset.pk).text == "Soup of the day — 6.50"
    assert gate.balance_of(funded) == balance
    assert services.search_library(venue=funded, query="soup").items[0].pk == menu.asset.pk


def test_an_empty_menu_text_is_refused_and_nothing_changes(funded, staff, menu):
    with pytest.raises(InvalidInput):
        library_actions.save_menu_text(venue=funded, user=staff, asset_id=menu.asset.pk, text="  ")
    assert Asset.objects.get(pk=menu.asset.pk).text == menu.asset.text


def test_only_menu_text_of_the_venue_can_be_saved(client, outsider, staff, funded, menu, image):
    client.force_login(outsider)
    assert client.post(reverse("composer:menu-text", args=[menu.asset.pk]), {"text": "x"}).status_code == 404
    client.force_login(staff)
    assert client.post(reverse("composer:menu-text", args=[image.pk]), {"text": "x"}).status_code == 404
    assert Asset.objects.get(pk=menu.asset.pk).text == menu.asset.text


def test_the_simulated_reader_says_what_it_was_given():
    assert "a 640 × 480 PNG of" in read_menu(image_bytes(size=(640, 480)))
    assert "a 32 × 16 JPEG of" in read_menu(image_bytes("JPEG", size=(32, 16)))
    assert f"a PDF of {len(PDF_BYTES) / 1024:.1f} KB" in read_menu(PDF_BYTES)
