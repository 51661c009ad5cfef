"""Bearer-key authentication for /api/v1/ and the access rules of API.md ("Auth").

- No key, an unknown key, a revoked key, or a key whose owner is inactive → 401 `unauthorized`.
- A venue key acts for its venue only, and only while its owner is a member there (or a superuser):
  another venue's path, or a key whose owner left the venue → 404 `not_found` (an outsider cannot
  learn that the other venue exists); a platform (venue-less) key on a venue path → 403 `forbidden`.
- `/api/v1/admin/…` takes only a superuser's platform key; anything else → 403 `forbidden`.

All of this is decided by the auth callbacks, before the body is read, so a refused key learns
nothing from how its body would have been judged. Refusals are ninja's AuthorizationError (403)
and Django's Http404, which the API's one error layer renders in the error shape — this module
needs nothing from the apps above it (dependencies point one way, towards bitethemenu).

Only the SHA-256 of a key is stored (`ApiKey.hash`), so a key is looked up by its hash. CSRF does
not apply: a bearer key is not sent by browsers on their own, unlike a session cookie.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from bitethemenu.access import get_venue_for_member
from bitethemenu.models import ApiKey, Venue

# A key is far shorter; anything longer is not worth hashing.
MAX_KEY_LENGTH = 200
# last_used_at is written at most this often per key, so a busy client costs one UPDATE a minute.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def forbidden(detail: str) -> AuthorizationError:
    """403 `forbidden`; `detail` becomes the error's technical_detail."""
    return AuthorizationError(message=detail)


def find_active_key(raw_key: str) -> ApiKey | None:
    """The active (unrevoked, owner active) key with this secret, or None. Touches last_used_at
    with one conditional UPDATE, skipped when it was touched within the last minute."""
    if not raw_key or len(raw_key) > MAX_KEY_LENGTH:
        return None
    key = (
        ApiKey.objects.active()
        .select_related("owner", "venue")
        .filter(hashed_secret=ApiKey.hash(raw_key))
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
    return key


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer <key>`; `request.auth` becomes the ApiKey, `request.user` its owner."""

    def __call__(self, request: HttpRequest) -> ApiKey | None:
        # Parsed here rather than by HttpBearer, which logs a malformed header (a secret) in DEBUG.
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = find_active_key(token)
        if key is not None:
            request.user = key.owner
        return key


class PlatformKeyAuth(ApiKeyAuth):
    """For /api/v1/admin/…: a valid key that is not a superuser's platform key → 403."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = super().authenticate(request, token)
        if key is None:
            return None
        if key.venue_id is not None:
            raise forbidden("admin endpoints need a platform key (one without a venue)")
        if not key.owner.is_superuser:
            raise forbidden("admin endpoints need a super admin's key")
        return key


class VenueKeyAuth(ApiKeyAuth):
    """For /api/v1/venues/{slug}/…: refuse the wrong key before the body is even read — a platform
    key → 403; another venue's key, or one whose owner is no longer a member → 404 — so access is
    decided first, whatever the body holds. The venue is kept for `venue_for_key`."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        key = super().authenticate(request, token)
        if key is None:
            return None
        match = request.resolver_match
        request.api_venue = _venue_for(key, match.kwargs.get("slug", "") if match else "")  # type: ignore[attr-defined]
        return key


def _venue_for(key: ApiKey, slug: str) -> Venue:
    """The venue `slug` names if `key` may act for it; AuthorizationError (403) or Http404 if not."""
    if key.venue_id is None:
        raise forbidden("platform keys do not act on venue paths; mint a key for the venue")
    if key.venue is None or key.venue.slug != slug:
        raise Http404("no such venue")
    return get_venue_for_member(key.owner, slug)  # Http404 once the owner has left the venue


api_key_auth = ApiKeyAuth()
platform_key_auth = PlatformKeyAuth()
venue_key_auth = VenueKeyAuth()


def venue_for_key(request: HttpRequest, slug: str) -> Venue:
    """The venue a venue path names, if the request's key may act for it (already resolved by
    VenueKeyAuth on venue routes; resolved again otherwise).

    Raises AuthorizationError (403 `forbidden`) for a platform key, and Http404 when the key
    belongs to another venue or its owner is no longer a member (superusers stay members everywhere).
    """
    venue: Venue | None = getattr(request, "api_venue", None)
    if venue is not None and venue.slug == slug:
        return venue
    return _venue_for(request.auth, slug)  # type: ignore[attr-defined]
