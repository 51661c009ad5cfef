"""Credits over the API: a venue's balance and ledger, and the super admin's venue set-up and grants.

Handlers are thin: resolve access (bitethemenu.api_auth), call one credits function, return.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from bitethemenu.access import is_venue_owner
from bitethemenu.api_auth import venue_for_key
from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from bitethemenu.schemas import SLUG_RE, error_responses
from credits.gate import balance_of, grant, history
from credits.schemas import BalanceOut, CreditsOut, GrantIn, VenueIn, VenueOut
from credits.venues import open_venue

router = Router(tags=["credits"])
admin_router = Router(tags=["admin: venues"])

# GET /credits lists this many ledger entries, newest first.
HISTORY_LIMIT = 100


def _venue_by_slug(slug: str) -> Venue:
    venue = Venue.objects.filter(slug=slug).first() if SLUG_RE.fullmatch(slug) else None
    if venue is None:
        raise FriendlyError(
            "not_found", "We couldn't find that venue.", f"no venue {slug!r}", http_status=404
        )
    return venue


@router.get("/{slug}/credits", response={200: CreditsOut, **error_responses()})
def get_credits(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The venue's balance, and for an owner's key its latest ledger entries, newest first.

    A key acts with its owner's rights (API.md "Auth"): like the Credits page, a staff member's key
    sees the balance and an empty `entries` list; the history is for the venue's owners.
    """
    venue = venue_for_key(request, slug)
    entries = history(venue=venue, limit=HISTORY_LIMIT) if is_venue_owner(request.user, venue) else []
    return {"balance": balance_of(venue), "entries": entries}


@admin_router.post("/venues", response={201: VenueOut, **error_responses(409)})
def create_venue(request: HttpRequest, payload: VenueIn) -> Status[Any]:
    """Create a venue with `credits` to start with (0 is fine). 409 if the slug exists."""
    venue = open_venue(name=payload.name, slug=payload.slug, credits=payload.credits, by=request.user)
    return Status(201, {"slug": venue.slug, "name": venue.name, "balance": balance_of(venue)})


@admin_router.post("/venues/{slug}/credits", response={200: BalanceOut, **error_responses()})
def grant_credits(request: HttpRequest, slug: str, payload: GrantIn) -> dict[str, Any]:
    """Grant `amount` (> 0) credits to the venue; returns the new balance."""
    venue = _venue_by_slug(slug)
    grant(venue=venue, amount=payload.amount, note=payload.note, by=request.user)
    return {"balance": balance_of(venue)}
