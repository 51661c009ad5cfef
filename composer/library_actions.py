"""What a venue does to its Library besides making things: archive and restore an asset, and correct the
text of an imported menu. Free (no credits, no AI call), and only on the venue's own assets."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from bitethemenu.errors import FriendlyError, InvalidInput
from bitethemenu.models import Venue
from composer import services
from composer.models import Asset, AssetEmbedding

MENU_TEXT_MAX_LENGTH = 20_000


def _own_asset(*, venue: Venue, asset_id: int, kinds: tuple[str, ...] = ()) -> Asset:
    asset = Asset.objects.filter(venue=venue, pk=asset_id).first()
    if asset is None or (kinds and asset.kind not in kinds):
        raise FriendlyError(
            "not_found", "We couldn't find that item.", f"asset {asset_id} not in this venue", http_status=404
        )
    return asset


def archive(*, venue: Venue, asset_id: int) -> Asset:
    """Take an asset out of the Library and search (restorable). Archiving twice changes nothing."""
    asset = _own_asset(venue=venue, asset_id=asset_id)
    if asset.archived_at is None:
        asset.archived_at = timezone.now()
        asset.save(update_fields=["archived_at"])
    return asset


def restore(*, venue: Venue, asset_id: int) -> Asset:
    """Put an archived asset back in the Library, where it was (its date is unchanged)."""
    asset = _own_asset(venue=venue, asset_id=asset_id)
    if asset.archived_at is not None:
        asset.archived_at = None
        asset.save(update_fields=["archived_at"])
    return asset


def archived_assets(*, venue: Venue) -> list[Asset]:
    """The venue's archived assets, most recently archived first."""
    return list(Asset.objects.filter(venue=venue, archived_at__isnull=False).order_by("-archived_at", "-id"))


def save_menu_text(*, venue: Venue, user: Any, asset_id: int, text: Any) -> Asset:
    """Replace an imported menu's text with the venue's corrected version, and index it again for search
    (best effort, like a new asset)."""
    asset = _own_asset(venue=venue, asset_id=asset_id, kinds=(Asset.Kind.OCR,))
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("The menu text is empty — type or paste it back before saving.", "empty menu text")
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MENU_TEXT_MAX_LENGTH:
        raise InvalidInput(
            f"Please keep the menu under {MENU_TEXT_MAX_LENGTH:,} characters.",
            f"menu text of {len(text)} chars",
        )
    with transaction.atomic():
        asset.text = text
        asset.save(update_fields=["text"])
        AssetEmbedding.objects.filter(asset=asset).delete()  # its vectors described the old text
    services.index_asset(venue=venue, user=user, asset=asset)
    return asset
