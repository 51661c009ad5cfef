from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
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


class RejectNullCharactersMiddleware:
    """A NUL in a page's query string is a calm 400, not a PostgreSQL error (a 500) deep in a
    list filter: PostgreSQL text cannot hold NUL, and admin changelist filters pass query values
    straight to the database. Forms already refuse NUL; this covers every GET parameter at once.
    The API (/api/) validates its own input and answers in its own error shape."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and _has_null(request):
            return HttpResponseBadRequest(
                "That link has a character we can't read. Go back and try again.", content_type="text/plain"
            )
        return self.get_response(request)


def _has_null(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
    )
