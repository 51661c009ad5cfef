from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from bitethemenu.access import venues_for_user
from bitethemenu.models import Venue

SESSION_KEY = "current_venue_slug"


def current_venue(request: HttpRequest) -> Venue | None:
    """The venue the user is working in: the one they switched to, else their first."""
    venues = venues_for_user(request.user).order_by("name")
    slug = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if slug:
        venue = venues.filter(slug=slug).first()
        if venue is not None:
            return venue
    return venues.first()


class CurrentVenueMiddleware:
    """Puts `request.venue` (lazily: API and static requests never pay the query)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.venue = SimpleLazyObject(lambda: current_venue(request))  # type: ignore[attr-defined]
        return self.get_response(request)
