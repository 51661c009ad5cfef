"""The Composer: generate an image, write a caption."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.views.decorators.http import require_GET, require_POST

from bitethemenu.errors import FriendlyError
from bitethemenu.request_types import VenueRequest
from composer import services
from composer.forms import STYLE_PRESETS, CaptionForm, ImageForm
from composer.views.common import (
    current_venue,
    login_and_venue_required,
    page_context,
    render_page,
    show_error,
    submission_id,
)

TEMPLATE = "composer/composer.html"


def _context(request: VenueRequest, **extra: Any) -> dict[str, Any]:
    defaults = {"image_form": ImageForm(), "caption_form": CaptionForm(), "presets": STYLE_PRESETS}
    return page_context(request, **{**defaults, **extra})


@require_GET
@login_and_venue_required
def composer(request: VenueRequest) -> HttpResponse:
    return render_page(request, TEMPLATE, "image_panel", _context(request))


@require_POST
@login_and_venue_required
def generate_image(request: VenueRequest) -> HttpResponse:
    form = ImageForm(request.POST, request.FILES)
    context = _context(request, image_form=form)
    if form.is_valid():
        reference = form.cleaned_data["reference"]
        try:
            context["image_result"] = services.generate_image(
                venue=current_venue(request),
                user=request.user,
                prompt=form.cleaned_data["prompt"],
                style=form.cleaned_data["style"],
                reference=reference[0] if reference else None,
                request_id=submission_id(request),
            )
        except FriendlyError as error:
            show_error(error, form, context, "image_error")
    # A browser can't put a file back into a re-rendered form: say so, or a retry quietly drops the photo.
    context["choose_reference_again"] = "reference" in request.FILES and "image_result" not in context
    return render_page(request, TEMPLATE, "image_panel", context)


@require_POST
@login_and_venue_required
def write_caption(request: VenueRequest) -> HttpResponse:
    form = CaptionForm(request.POST)
    context = _context(request, caption_form=form)
    if form.is_valid():
        try:
            context["caption_result"] = services.write_caption(
                venue=current_venue(request),
                user=request.user,
                prompt=form.cleaned_data["prompt"],
                tone=form.cleaned_data["tone"],
                request_id=submission_id(request),
            )
        except FriendlyError as error:
            show_error(error, form, context, "caption_error")
    return render_page(request, TEMPLATE, "caption_panel", context)
