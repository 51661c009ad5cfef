"""Typed request classes, so views say what middleware put on the request."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from bitethemenu.models import Venue


class VenueRequest(HttpRequest):
    htmx: HtmxDetails
    user: User | AnonymousUser
    venue: Venue | None  # set by CurrentVenueMiddleware; None when the user has no venue
