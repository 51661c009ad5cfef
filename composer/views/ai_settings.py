"""AI settings: the venue's primary provider+model per service kind, tried before the chain."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from bitethemenu.models import Venue
from bitethemenu.request_types import VenueRequest
from composer.forms import AISettingsForm
from composer.views.common import current_venue, login_and_venue_required, page_context, render_page
from resilience import primaries
from resilience.errors import FriendlyError
from resilience.types import KIND_LABELS


@require_http_methods(["GET", "POST"])
@login_and_venue_required
def ai_settings(request: VenueRequest) -> HttpResponse:
    venue = current_venue(request)
    current = {kind: (row.provider, row.model) if row else None
               for kind, row in primaries.primaries_for(venue).items()}
    form = AISettingsForm(request.POST if request.method == "POST" else None, current=current)
    saved = False
    if request.method == "POST" and form.is_valid():
        saved = _save(form, venue=venue)
    context = page_context(request, form=form, saved=saved, kind_labels=KIND_LABELS)
    return render_page(request, "composer/ai_settings.html", "settings_form", context)


def _save(form: AISettingsForm, *, venue: Venue) -> bool:
    """Apply each kind's choice; a refused one becomes that field's error. True if all saved."""
    for kind, choice in form.choices_by_kind().items():
        try:
            if choice is None:
                primaries.clear_primary(venue=venue, kind=kind)
            else:
                primaries.set_primary(venue=venue, kind=kind, provider=choice[0], model=choice[1])
        except FriendlyError as error:
            form.add_error(kind, error.user_message)
    return not form.errors
