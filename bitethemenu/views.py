"""Platform pages: home and the venue switcher. Login/logout are Django's own views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from bitethemenu.access import get_venue_for_member
from bitethemenu.middleware import SESSION_KEY
from bitethemenu.request_types import VenueRequest


@require_GET
@login_required
def home(request: VenueRequest) -> HttpResponse:
    return render(request, "bitethemenu/home.html", {"venue": request.venue or None})


@require_POST
@login_required
def switch_venue(request: VenueRequest) -> HttpResponse:
    venue = get_venue_for_member(request.user, request.POST.get("venue", ""))
    request.session[SESSION_KEY] = venue.slug
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return redirect(next_url)


@require_GET
def healthz(request: VenueRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
