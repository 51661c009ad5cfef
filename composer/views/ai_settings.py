"""AI settings: the venue's primary provider+model per service kind, tried before the chain."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

from bitethemenu.request_types import VenueRequest
from composer.forms import AISettingsForm
from composer.views.common import current_venue, login_and_venue_required, page_context, render_page
from resilience import primaries
from resilience.types import KIND_LABELS


@require_http_methods(["GET", "POST"])
@login_and_venue_required
def ai_settings(request: VenueRequest) -> HttpResponse:
    venue = current_venue(request)
    current = {
        kind: (row.provider, row.model) if row else None
        for kind, row in primaries.primaries_for(venue).items()
    }
    form = AISettingsForm(request.POST if request.method == "POST" else None, current=current)
    saved = False
    if request.method == "POST" and form.is_valid():
        try:
            primaries.save_primaries(venue=venue, choices=form.choices_by_kind())
            saved = True
        except primaries.PrimariesInvalid as refused:  # nothing saved: each refused kind says why
            for kind, message in refused.errors.items():
                form.add_error(kind, message)
    context = page_context(request, form=form, saved=saved, kind_labels=KIND_LABELS)
    return render_page(request, "composer/ai_settings.html", "settings_form", context)
