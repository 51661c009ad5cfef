"""What a venue makes with AI, over the API (API.md "Venue endpoints").

Every paid call is a job (composer.jobs) exactly like the Composer pages: the credit gate holds
the cost, a task worker walks the venue's primary then the chain, and on exhaustion the venue is
refunded, an alert is written and the answer is 503 `ai_unavailable`. With `Prefer:
respond-async` the call answers 202 + Location + Job at once (API.md "Jobs"); without it, the
async handler awaits the job (composer.waiting: no thread or connection held) and answers 201 / error
as a direct call would. Handlers are thin: resolve access, call one service, return.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import FileResponse, HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Status
from ninja.params import functions as param_functions

from bitethemenu.api_auth import venue_for_key
from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from bitethemenu.schemas import MAX_ID, error_responses
from composer import jobs, waiting
from composer.models import Asset, Job
from composer.schemas import (
    AssetOut,
    EditIn,
    EmbeddingsIn,
    EmbeddingsOut,
    GenerationOut,
    ImageIn,
    JobFilters,
    JobOut,
    JobsOut,
    LibraryFilters,
    LibraryOut,
    OcrIn,
    TextIn,
)
from composer.services import search_library
from credits.gate import balance_of

router = Router(tags=["venue: composer"])

# Errors of a paid call, on top of the common ones (409: its Idempotency-Key was used before).
# 429: over the paid-call rate limit (bitethemenu.ratelimits), with Retry-After.
PAID_ERRORS = (402, 409, 413, 429, 503)
EMBED_ERRORS = (402, 413, 429, 503)
# An optional `Idempotency-Key` header makes a paid call safe to retry (say, after a client-side
# timeout): the venue is charged and the chain run at most once per key — a repeat is 409 `conflict`.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
REPEATED_KEY_MESSAGE = (
    "A call with this Idempotency-Key was already made, so this one did nothing. Its result is "
    "in your Library (or GET /credits shows its refund); to try again, send a new key."
)
FILE_RESPONSE = {
    "200": {
        "description": "The image bytes.",
        "content": {
            mime: {"schema": {"type": "string", "format": "binary"}}
            for mime in ("image/png", "image/jpeg", "image/webp")
        },
    },
}


def idempotency_key() -> Any:
    """The optional `Idempotency-Key` header parameter of a paid call (in the OpenAPI document)."""
    return param_functions.Header(
        None,
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Optional, 8-64 letters, digits, - or _ (a UUID will do). A paid call is "
        "charged and run at most once per key and venue: a repeat gets 409 `conflict`. "
        "The call's X-Request-ID is then this key.",
    )


@contextmanager
def at_most_once(key: str | None) -> Iterator[None]:
    """Around a paid service call: a repeated Idempotency-Key (the gate's 409 `conflict`) gets copy
    that says what to do over the API (the pages' copy speaks of forms)."""
    try:
        yield
    except FriendlyError as error:
        if key and error.code == "conflict":
            error.user_message = REPEATED_KEY_MESSAGE
        raise


def asset_for_venue(venue: Venue, asset_id: int, *, image: bool = False) -> Asset:
    """The venue's asset (an image with a file when `image`), else FriendlyError `not_found`."""
    asset = None
    if 1 <= asset_id <= MAX_ID:
        asset = Asset.objects.filter(pk=asset_id, venue=venue).first()
    if asset is None or (image and (asset.kind != Asset.Kind.IMAGE or not asset.image)):
        raise FriendlyError(
            "not_found", "We couldn't find that.", f"no such asset {asset_id}", http_status=404
        )
    return asset


def asset_out(request: HttpRequest, venue: Venue, asset: Asset) -> dict[str, Any]:
    """One of `venue`'s assets as API.md shows it: no provider, model or chain leg."""
    image_url = None
    if asset.kind == Asset.Kind.IMAGE and asset.image:
        path = reverse("api-v1:asset_file", kwargs={"slug": venue.slug, "asset_id": asset.pk})
        image_url = request.build_absolute_uri(path)
    return {
        "id": asset.pk,
        "kind": asset.kind,
        "prompt": asset.prompt,
        "style": asset.style,
        "text": asset.text,
        "image_url": image_url,
        "parent_id": asset.parent_id,
        "created_at": asset.created_at,
    }


def respond_async() -> Any:
    """The optional `Prefer` header of a paid call (RFC 7240): `respond-async` queues the job and
    answers 202 at once."""
    return param_functions.Header(
        None,
        alias="Prefer",
        description="`respond-async`: answer 202 at once with a Location header and a Job "
        "(GET …/jobs/{id} to follow it). Without it the call answers as before (201 / error), "
        "waiting for its job without holding a server thread.",
    )


def wants_async(prefer: str | None) -> bool:
    return any(part.strip().lower() == "respond-async" for part in re.split(r"[,;]", prefer or ""))


async def answer(
    request: HttpRequest, response: HttpResponse, venue: Venue, job: Job, prefer: str | None
) -> Status[Any]:
    """202 + Location + Job with `Prefer: respond-async`; else wait for the job (asynchronously:
    no thread is held while the worker walks the chain) and answer what the direct call would."""
    if wants_async(prefer):
        body = await sync_to_async(job_out)(request, venue, job)
        location = request.build_absolute_uri(
            reverse("api-v1:job", kwargs={"slug": venue.slug, "job_id": job.pk})
        )
        response["Location"] = location
        return Status(202, body)
    await sync_to_async(_release_connection)()  # the submit's: not held while the job runs
    job = await wait_for_job(job.pk)
    await sync_to_async(jobs.mark_seen)([job])  # answered here: no panel needs to show it again
    if job.is_active:  # the queue is very long today: hand over the job instead of waiting on
        body = await sync_to_async(job_out)(request, venue, job)
        return Status(202, body)
    error = job.error
    if error is not None:
        raise error  # the error shape, status and request id of the direct call
    request.request_id = job.request_id  # type: ignore[attr-defined]
    result = await sync_to_async(result_of)(request, venue, job)
    return Status(200 if job.kind == "embedding" else 201, result)


async def wait_for_job(job_id: int) -> Job:
    """The job once it ended (or after API_JOB_WAIT_SECONDS): this process's one watcher polls for
    every waiting call (composer.waiting), so no thread or connection is held meanwhile."""
    job = await sync_to_async(_read_job)(job_id)
    if job.is_active and await waiting.until_ended(job_id, timeout=settings.API_JOB_WAIT_SECONDS):
        job = await sync_to_async(_read_job)(job_id)
    return job


def _read_job(job_id: int) -> Job:
    """One read, then the connection is released (see `_release_connection`). A job deleted while
    its call waited (its venue was removed) is a calm 404, not a crash."""
    try:
        return Job.objects.select_related("asset", "venue").get(pk=job_id)
    except Job.DoesNotExist:
        raise FriendlyError(
            "not_found", "We couldn't find that.", f"job {job_id} was deleted", http_status=404
        ) from None
    finally:
        _release_connection()


def _release_connection() -> None:
    """Sixty-four calls waiting for their jobs must not hold sixty-four database connections while
    they sleep (PostgreSQL allows 100). Inside a transaction (the test suite's) it stays open."""
    if not connection.in_atomic_block:
        connection.close()


def result_of(request: HttpRequest, venue: Venue, job: Job) -> dict[str, Any] | None:
    """A finished job's body: what the synchronous call would have answered."""
    if job.status != Job.Status.SUCCEEDED:
        return None
    body: dict[str, Any] = {"credits_charged": job.credits_charged, "balance": balance_of(venue)}
    if job.kind == "embedding":
        return {**(job.output or {}), **body}
    if job.asset is None:  # deleted since: the job still says it succeeded
        return None
    return {"asset": asset_out(request, venue, job.asset), **body}


def job_out(request: HttpRequest, venue: Venue, job: Job) -> dict[str, Any]:
    error = job.error
    return {
        "id": job.pk,
        "kind": job.kind,
        "service": job.service,
        "status": job.status,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "result": result_of(request, venue, job),
        "error": error.as_dict() | {"request_id": error.request_id} if error else None,
    }


def _submit(
    request: HttpRequest, slug: str, key: str | None, submit: Callable[[Venue], Job]
) -> tuple[Venue, Job]:
    venue = venue_for_key(request, slug)
    with at_most_once(key):
        return venue, submit(venue)


PAID_RESPONSES = {201: GenerationOut, 202: JobOut, **error_responses(*PAID_ERRORS)}


@router.post("/{slug}/images", response=PAID_RESPONSES)
async def post_image(
    request: HttpRequest,
    response: HttpResponse,
    slug: str,
    payload: ImageIn,
    key: str | None = idempotency_key(),
    prefer: str | None = respond_async(),
) -> Status[Any]:
    """Generate an image (service `social.generateImage`), optionally from a reference photo."""

    def submit(venue: Venue) -> Job:
        return jobs.submit_image(
            venue=venue,
            user=request.user,
            prompt=payload.prompt,
            style=payload.style or "",
            reference=payload.reference_image or None,
            request_id=key or "",
        )

    venue, job = await sync_to_async(_submit)(request, slug, key, submit)
    return await answer(request, response, venue, job, prefer)


@router.post("/{slug}/images/{asset_id}/edit", response=PAID_RESPONSES)
async def post_edit(
    request: HttpRequest,
    response: HttpResponse,
    slug: str,
    asset_id: int,
    payload: EditIn,
    key: str | None = idempotency_key(),
    prefer: str | None = respond_async(),
) -> Status[Any]:
    """A new version of an image asset (`parent_id` set); the asset is the reference image."""

    def submit(venue: Venue) -> Job:
        asset = asset_for_venue(venue, asset_id, image=True)
        return jobs.submit_edit(
            venue=venue, user=request.user, asset=asset, instruction=payload.instruction, request_id=key or ""
        )

    venue, job = await sync_to_async(_submit)(request, slug, key, submit)
    return await answer(request, response, venue, job, prefer)


@router.post("/{slug}/text", response=PAID_RESPONSES)
async def post_text(
    request: HttpRequest,
    response: HttpResponse,
    slug: str,
    payload: TextIn,
    key: str | None = idempotency_key(),
    prefer: str | None = respond_async(),
) -> Status[Any]:
    """Write a caption (service `social.writeCaption`; a failure is an alert of kind `chat`)."""

    def submit(venue: Venue) -> Job:
        return jobs.submit_caption(
            venue=venue,
            user=request.user,
            prompt=payload.prompt,
            tone=payload.tone or "",
            request_id=key or "",
        )

    venue, job = await sync_to_async(_submit)(request, slug, key, submit)
    return await answer(request, response, venue, job, prefer)


@router.post("/{slug}/ocr", response=PAID_RESPONSES)
async def post_ocr(
    request: HttpRequest,
    response: HttpResponse,
    slug: str,
    payload: OcrIn,
    key: str | None = idempotency_key(),
    prefer: str | None = respond_async(),
) -> Status[Any]:
    """Read a menu photo or PDF (service `menu.importFromPhoto`) into an `ocr` asset."""

    def submit(venue: Venue) -> Job:
        return jobs.submit_menu(venue=venue, user=request.user, document=payload.image, request_id=key or "")

    venue, job = await sync_to_async(_submit)(request, slug, key, submit)
    return await answer(request, response, venue, job, prefer)


@router.post(
    "/{slug}/embeddings", response={200: EmbeddingsOut, 202: JobOut, **error_responses(*EMBED_ERRORS)}
)
async def post_embeddings(
    request: HttpRequest,
    response: HttpResponse,
    slug: str,
    payload: EmbeddingsIn,
    prefer: str | None = respond_async(),
) -> Status[Any]:
    """Vectors for the inputs, all from the returned `model` (service `api.embeddings`)."""

    def submit(venue: Venue) -> Job:
        return jobs.submit_embeddings(venue=venue, user=request.user, inputs=list(payload.input))

    venue, job = await sync_to_async(_submit)(request, slug, None, submit)
    return await answer(request, response, venue, job, prefer)


@router.get("/{slug}/jobs/{job_id}", url_name="job", response={200: JobOut, **error_responses()})
def get_job(request: HttpRequest, slug: str, job_id: int) -> dict[str, Any]:
    """One job: where it is, and its result or error once it ended. Another venue's job is 404."""
    venue = venue_for_key(request, slug)
    job = jobs.job_for_venue(venue, job_id) if 1 <= job_id <= MAX_ID else None
    if job is None:
        raise FriendlyError("not_found", "We couldn't find that.", f"no such job {job_id}", http_status=404)
    jobs.mark_seen([job])  # the client has its result: no panel needs to show it again
    return job_out(request, venue, job)


@router.get("/{slug}/jobs", response={200: JobsOut, **error_responses()})
def get_jobs(request: HttpRequest, slug: str, filters: Query[JobFilters]) -> dict[str, Any]:
    """The venue's jobs, newest first (the latest 100), optionally of one status."""
    venue = venue_for_key(request, slug)
    return {
        "items": [job_out(request, venue, job) for job in jobs.jobs_for(venue, status=filters.status)[:100]]
    }


@router.get("/{slug}/library", response={200: LibraryOut, **error_responses()})
def get_library(request: HttpRequest, slug: str, filters: Query[LibraryFilters]) -> dict[str, Any]:
    """The Library newest first, or with `q` by meaning (falling back to word matches)."""
    venue = venue_for_key(request, slug)
    page = search_library(venue=venue, query=filters.q, kind=filters.kind, page=filters.page)
    return {
        "items": [asset_out(request, venue, a) for a in page.items],
        "next_page": page.next_page,
        "word_matches": page.word_matches,
    }


@router.get("/{slug}/assets/{asset_id}", response={200: AssetOut, **error_responses()})
def get_asset(request: HttpRequest, slug: str, asset_id: int) -> dict[str, Any]:
    """One Library item."""
    venue = venue_for_key(request, slug)
    return asset_out(request, venue, asset_for_venue(venue, asset_id))


@router.get(
    "/{slug}/assets/{asset_id}/file",
    url_name="asset_file",
    response=error_responses(),
    openapi_extra={"responses": FILE_RESPONSE},
)
def get_asset_file(request: HttpRequest, slug: str, asset_id: int) -> FileResponse:
    """The image's bytes (404 for a text or OCR asset)."""
    asset = asset_for_venue(venue_for_key(request, slug), asset_id, image=True)
    try:
        handle = asset.image.open("rb")
    except OSError:
        raise FriendlyError(
            "not_found", "We couldn't find that image.", "the file is missing", http_status=404
        ) from None
    return FileResponse(handle, content_type=asset.image_mime or "application/octet-stream")
