"""The Composer: generate an image, write a caption — each a job on a task worker.

Pressing Generate only validates, charges and queues: the panel comes straight back with the job,
which polls `job` every second until it shows the result or the amber banner. Leaving the page
and coming back shows the venue's running jobs again, where they are, and the user's own that ended
meanwhile (jobs.panel_jobs).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from bitethemenu.request_types import VenueRequest
from composer import jobs
from composer.forms import STYLE_PRESETS, CaptionForm, ImageForm
from composer.models import Job
from composer.views.common import (
    current_venue,
    job_not_here,
    login_and_venue_required,
    page_context,
    render_page,
    show_error,
    submission_id,
)

TEMPLATE = "composer/composer.html"
IMAGE_SERVICES = ("social.generateImage",)
CAPTION_SERVICES = ("social.writeCaption",)


def _context(request: VenueRequest, **extra: Any) -> dict[str, Any]:
    venue = current_venue(request)
    defaults = {
        "image_form": ImageForm(),
        "caption_form": CaptionForm(),
        "presets": STYLE_PRESETS,
        "image_jobs": shown_jobs(request, venue, IMAGE_SERVICES),
        "caption_jobs": shown_jobs(request, venue, CAPTION_SERVICES),
    }
    return page_context(request, **{**defaults, **extra})


def shown_jobs(request: VenueRequest, venue: Venue, services_: tuple[str, ...]) -> list[Job]:
    """A panel's jobs: on arrival, what ended while the user was away too (jobs.panel_jobs); after
    a submit, only the running ones — the panel swaps in fresh, without the last attempt's banner."""
    if request.method == "GET":
        return jobs.panel_jobs(venue, request.user, services_=services_)
    return jobs.active_jobs(venue, services_=services_)


def with_submitted(active: list[Job], job: Job) -> list[Job]:
    """The panel's jobs after a submit: the venue's other running ones, then the new one."""
    return [other for other in active if other.pk != job.pk] + [job]


@require_GET
@login_and_venue_required
def composer(request: VenueRequest) -> HttpResponse:
    return _render_panels(request, "image_panel", _context(request))


def _render_panels(request: VenueRequest, partial: str, context: dict[str, Any]) -> HttpResponse:
    jobs.mark_seen([*context["image_jobs"], *context["caption_jobs"]])
    return render_page(request, TEMPLATE, partial, context)


@require_POST
@login_and_venue_required
def generate_image(request: VenueRequest) -> HttpResponse:
    form = ImageForm(request.POST, request.FILES)
    context = _context(request, image_form=form)
    job = None
    if form.is_valid():
        reference = form.cleaned_data["reference"]
        try:
            job = jobs.submit_image(
                venue=current_venue(request),
                user=request.user,
                prompt=form.cleaned_data["prompt"],
                style=form.cleaned_data["style"],
                reference=reference[0] if reference else None,
                request_id=submission_id(request),
            )
            context["image_jobs"] = with_submitted(context["image_jobs"], job)
        except FriendlyError as error:
            show_error(error, form, context, "image_error")
    # A browser can't put a file back into a re-rendered form: say so, or a retry quietly drops the photo.
    context["choose_reference_again"] = "reference" in request.FILES and (
        job is None or job.status == Job.Status.FAILED
    )
    return _render_panels(request, "image_panel", context)


@require_POST
@login_and_venue_required
def write_caption(request: VenueRequest) -> HttpResponse:
    form = CaptionForm(request.POST)
    context = _context(request, caption_form=form)
    if form.is_valid():
        try:
            job = jobs.submit_caption(
                venue=current_venue(request),
                user=request.user,
                prompt=form.cleaned_data["prompt"],
                tone=form.cleaned_data["tone"],
                request_id=submission_id(request),
            )
            context["caption_jobs"] = with_submitted(context["caption_jobs"], job)
        except FriendlyError as error:
            show_error(error, form, context, "caption_error")
    return _render_panels(request, "caption_panel", context)


@require_GET
@login_and_venue_required
def job(request: VenueRequest, job_id: int) -> HttpResponse:
    """One job's block (what the panels poll): progress, then the result or the amber banner.
    Another venue's job is a 404, like any other venue resource."""
    found = jobs.job_for_venue(current_venue(request), job_id)
    if found is None:
        return job_not_here(request)
    context = page_context(request, job=found)
    jobs.mark_seen([found])
    response = render(request, "composer/job.html", context)
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response
