"""The venue-facing Credits page: the balance for everyone in the venue, the history for owners."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bitethemenu.access import is_venue_owner
from bitethemenu.request_types import VenueRequest
from credits import gate

HISTORY_LIMIT = 100


@require_GET
@login_required
def credits_page(request: VenueRequest) -> HttpResponse:
    venue = request.venue or None
    context: dict[str, object] = {"venue": venue, "is_owner": False, "entries": [], "balance": 0}
    if venue is not None:
        is_owner = is_venue_owner(request.user, venue)
        context.update(
            balance=gate.balance_of(venue),
            is_owner=is_owner,
            entries=gate.history(venue=venue, limit=HISTORY_LIMIT) if is_owner else [],
        )
    return render(request, "credits/credits.html", context)
