"""Menu import: a photo or PDF of the menu in, its text out (and into the Library)."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from bitethemenu.errors import FriendlyError
from bitethemenu.request_types import VenueRequest
from composer import jobs
from composer.forms import MenuImportForm
from composer.views.common import (
    current_venue,
    login_and_venue_required,
    page_context,
    render_page,
    show_error,
    submission_id,
)
from composer.views.compose import shown_jobs, with_submitted

MENU_SERVICES = ("menu.importFromPhoto",)


@require_http_methods(["GET", "POST"])
@login_and_venue_required
def menu_import(request: VenueRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = MenuImportForm(request.POST if posted else None, request.FILES if posted else None)
    venue = current_venue(request)
    context = page_context(request, form=form, jobs=shown_jobs(request, venue, MENU_SERVICES))
    if posted and form.is_valid():
        data, _mime = form.cleaned_data["document"]  # sniffed again by the service, whatever it claims
        try:
            job = jobs.submit_menu(
                venue=venue, user=request.user, document=data, request_id=submission_id(request)
            )
            context["jobs"] = with_submitted(context["jobs"], job)
        except FriendlyError as error:
            show_error(error, form, context)
    jobs.mark_seen(context["jobs"])
    return render_page(request, "composer/menu_import.html", "import_panel", context)
