"""The venue-facing Credits page: the balance for everyone in the venue, the history for owners."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bitethemenu.access import is_venue_owner
from bitethemenu.request_types import VenueRequest
from credits import gate
from credits.history import history_page


@require_GET
@login_required
def credits_page(request: VenueRequest) -> HttpResponse:
    venue = request.venue or None
    context: dict[str, object] = {"venue": venue, "is_owner": False, "history": None, "balance": 0}
    if venue is not None:
        is_owner = is_venue_owner(request.user, venue)
        context.update(
            balance=gate.balance_of(venue),
            is_owner=is_owner,
            history=history_page(venue=venue, page_number=request.GET.get("page")) if is_owner else None,
        )
    return render(request, "credits/credits.html", context)
