"""Generated images: stored under names the server chooses, served only to the venue's members."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import Resolver404, resolve

from bitethemenu.models import ApiKey
from composer.models import Asset
from tests.composer.images import image_bytes

pytestmark = pytest.mark.django_db
SERVER_CHOSEN = re.compile(r"^assets/\d{4}/\d{2}/[0-9a-f]{32}\.png$")


def test_an_image_is_stored_under_a_name_the_server_chose_not_the_idempotency_key(
    client, owner, funded, simulated
):
    _, raw = ApiKey.mint(owner=owner, venue=funded)
    response = client.post(
        "/api/v1/venues/chez-a/images",
        {"prompt": "Soup"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}", "Idempotency-Key": "client-chosen-evil-name-0001"},
    )
    assert response.status_code == 201, response.content
    name = Asset.objects.get().image.name
    assert SERVER_CHOSEN.match(name) and "evil" not in name


def test_media_is_not_routed_even_in_debug(settings):
    import bitethemenu.urls

    settings.DEBUG = True
    try:
        importlib.reload(bitethemenu.urls)
        with pytest.raises(Resolver404):
            resolve("/media/assets/2026/12/anything.png", urlconf=bitethemenu.urls)
    finally:
        settings.DEBUG = False
        importlib.reload(bitethemenu.urls)


def _image_asset(venue) -> Asset:
    asset = Asset(venue=venue, kind=Asset.Kind.IMAGE, image_mime="image/png")
    asset.image.save("x.png", ContentFile(image_bytes("PNG")), save=True)
    return asset


def test_only_members_and_super_admins_get_the_file(client, owner, outsider, superadmin, venue):
    asset = _image_asset(venue)
    url = f"/library/{asset.pk}/image/"
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    for user in (owner, superadmin):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == image_bytes("PNG")


def test_the_migration_renames_files_named_by_clients(venue):
    migration = importlib.import_module("composer.migrations.0002_server_chosen_file_names")
    old = default_storage.save("assets/2026/11/my-idempotency-key.png", ContentFile(b"png bytes"))
    asset = Asset.objects.create(venue=venue, kind=Asset.Kind.IMAGE, image=old, image_mime="image/png")
    missing = Asset.objects.create(venue=venue, kind=Asset.Kind.IMAGE, image="assets/2026/11/gone.png")
    migration.rename_to_server_chosen_names(django_apps, None)
    asset.refresh_from_db()
    assert SERVER_CHOSEN.match(asset.image.name)
    assert not default_storage.exists(old) and default_storage.open(asset.image.name).read() == b"png bytes"
    missing.refresh_from_db()
    assert missing.image.name == "assets/2026/11/gone.png"
