"""The Library (every successful output), the image editor, and access-checked image files."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from bitethemenu.errors import FriendlyError
from bitethemenu.request_types import VenueRequest
from composer import jobs, services
from composer.access import get_image_for_member
from composer.forms import EditForm, LibraryFilterForm
from composer.models import Asset, Job
from composer.views.common import (
    current_venue,
    job_not_here,
    login_and_venue_required,
    page_context,
    render_page,
    show_error,
    submission_id,
)
from composer.views.compose import shown_jobs, with_submitted

EDIT_SERVICES = ("editor.editImage",)
LIBRARY_PLACEHOLDER_SERVICES = ("social.generateImage", "editor.editImage")

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}


@require_GET
@login_and_venue_required
def library(request: VenueRequest) -> HttpResponse:
    form = LibraryFilterForm(request.GET)
    form.is_valid()  # a bad field (an unknown kind, a page of "x") just falls back to its default
    query = form.cleaned_data.get("q") or ""
    kind = form.cleaned_data.get("kind") or None
    page = form.cleaned_data.get("page") or 1
    result = services.search_library(venue=current_venue(request), query=query, kind=kind, page=page)
    # Images still being made show as placeholders on the first page of the unfiltered Library.
    placeholders = []
    if page == 1 and not query and kind in (None, "image"):
        placeholders = jobs.active_jobs(current_venue(request), services_=LIBRARY_PLACEHOLDER_SERVICES)
    context = page_context(
        request, form=form, result=result, query=query, kind=kind or "", page=page, placeholders=placeholders
    )
    return render_page(request, "composer/library.html", "results", context)


@require_GET
@login_and_venue_required
def library_job(request: VenueRequest, job_id: int) -> HttpResponse:
    """A Library placeholder polling its job: still the placeholder, then the new image's card (or
    a calm note if it failed). Another venue's job is a 404, like any other venue resource."""
    found = jobs.job_for_venue(current_venue(request), job_id)
    if found is None:
        return job_not_here(request)
    # Archive on the card comes back to the Library page it sits on, filters and all.
    library = reverse("composer:library")
    shown_on = request.htmx.current_url_abs_path or ""
    context = page_context(
        request, job=found, library_url=shown_on if shown_on.startswith(library) else library
    )
    jobs.mark_seen([found])
    response = render(request, "composer/_library_job.html", context)
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_and_venue_required
def edit_image(request: VenueRequest, asset_id: int) -> HttpResponse:
    """GET: the editor. POST (Save): a new version of the image, linked to its parent."""
    asset = get_image_for_member(request.user, asset_id)
    form = EditForm(request.POST if request.method == "POST" else None)
    running = [job for job in shown_jobs(request, asset.venue, EDIT_SERVICES) if _edits(job, asset)]
    context = page_context(request, asset=asset, form=form, jobs=running)
    if request.method == "POST" and form.is_valid():
        try:
            job = jobs.submit_edit(
                venue=asset.venue,
                user=request.user,
                asset=asset,
                instruction=form.cleaned_data["instruction"],
                request_id=submission_id(request),
            )
            context["jobs"] = with_submitted(running, job)
        except FriendlyError as error:
            show_error(error, form, context)
    jobs.mark_seen(context["jobs"])
    return render_page(request, "composer/edit.html", "edit_panel", context)


def _edits(job: Job, asset: Asset) -> bool:
    return bool(job.params.get("asset_id") == asset.pk)


@require_GET
@login_required
def asset_file(request: VenueRequest, asset_id: int, download: bool = False) -> FileResponse:
    """The image bytes, for members of the asset's venue only (404 for anyone else)."""
    asset = get_image_for_member(request.user, asset_id)
    try:
        handle = asset.image.open("rb")
    except OSError:
        raise Http404("The file is missing") from None
    filename = f"bitethemenu-{asset.pk}.{_EXTENSIONS.get(asset.image_mime, 'png')}"
    response = FileResponse(
        handle,
        as_attachment=download,
        filename=filename,
        content_type=asset.image_mime or "application/octet-stream",
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
