"""Library actions that cost nothing: archive and restore an asset, the Archived list, and saving the
corrected text of an imported menu. POST → redirect → GET, with the outcome as a message; the menu text
also answers htmx with its panel."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from bitethemenu.errors import FriendlyError
from bitethemenu.request_types import VenueRequest
from composer import library_actions
from composer.views.common import current_venue, login_and_venue_required, page_context


def _back(request: VenueRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


@require_POST
@login_and_venue_required
def archive(request: VenueRequest, asset_id: int) -> HttpResponse:
    try:
        asset = library_actions.archive(venue=current_venue(request), asset_id=asset_id)
    except FriendlyError as error:
        messages.warning(request, error.user_message)
    else:
        messages.success(request, f"Archived #{asset.pk}. It is under “Archived” if you want it back.")
    return _back(request, reverse("composer:library"))


@require_POST
@login_and_venue_required
def restore(request: VenueRequest, asset_id: int) -> HttpResponse:
    try:
        asset = library_actions.restore(venue=current_venue(request), asset_id=asset_id)
    except FriendlyError as error:
        messages.warning(request, error.user_message)
    else:
        messages.success(request, f"Restored #{asset.pk} to your Library.")
    return _back(request, reverse("composer:archived"))


@require_GET
@login_and_venue_required
def archived(request: VenueRequest) -> HttpResponse:
    items = library_actions.archived_assets(venue=current_venue(request))
    return render(request, "composer/archived.html", page_context(request, items=items))


@require_POST
@login_and_venue_required
def save_menu_text(request: VenueRequest, asset_id: int) -> HttpResponse:
    """Save the venue's corrected menu text. htmx: the text panel again, saved or with the error."""
    venue = current_venue(request)
    context = page_context(request, asset_id=asset_id, text=request.POST.get("text", ""))
    try:
        context["asset"] = library_actions.save_menu_text(
            venue=venue, user=request.user, asset_id=asset_id, text=request.POST.get("text")
        )
        context["saved"] = True
    except FriendlyError as error:
        if error.http_status == 404:
            raise Http404("not this venue's menu text") from None
        context["error"] = error.user_message
    if request.htmx:
        return render(request, "composer/_menu_text.html", context)
    if "error" in context:
        messages.warning(request, context["error"])
    else:
        messages.success(request, f"Saved your menu text (#{asset_id}).")
    return HttpResponseRedirect(reverse("composer:library") + "?kind=ocr")
