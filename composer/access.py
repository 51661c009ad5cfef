"""The only way composer views reach a venue's assets (built on bitethemenu.access).

An asset is visible to members of its venue (and superusers); to anyone else it does not exist:
Http404, never 403, so an outsider cannot learn that another venue's asset id is taken.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from bitethemenu.access import venues_for_user
from composer.models import Asset


def get_asset_for_member(user: User | AnonymousUser, asset_id: int) -> Asset:
    """The asset if `user` belongs to its venue; Http404 otherwise."""
    asset = (
        Asset.objects.filter(pk=asset_id, venue__in=venues_for_user(user))
        .select_related("venue", "parent")
        .first()
    )
    if asset is None:
        raise Http404("No such asset")
    return asset


def get_image_for_member(user: User | AnonymousUser, asset_id: int) -> Asset:
    """As get_asset_for_member, for image assets only (edit, download)."""
    asset = get_asset_for_member(user, asset_id)
    if asset.kind != Asset.Kind.IMAGE or not asset.image:
        raise Http404("Not an image")
    return asset
