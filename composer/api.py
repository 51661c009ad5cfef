"""What a venue makes with AI, over the API (API.md "Venue endpoints").

Generation is synchronous and goes through composer.services exactly like the Composer pages:
the credit gate holds the cost, the cascade walks the venue's primary then the chain, and on
exhaustion the venue is refunded, an alert is written and the answer is 503 `ai_unavailable`.
Handlers are thin: resolve access, call one service, return.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status
from ninja.params import functions as param_functions

from bitethemenu.api_auth import venue_for_key
from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from bitethemenu.schemas import MAX_ID, error_responses
from composer.models import Asset
from composer.schemas import (
    AssetOut,
    EditIn,
    EmbeddingsIn,
    EmbeddingsOut,
    GenerationOut,
    ImageIn,
    LibraryFilters,
    LibraryOut,
    OcrIn,
    TextIn,
)
from composer.services import (
    Generation,
    edit_image,
    embed_texts,
    generate_image,
    import_menu,
    search_library,
    write_caption,
)

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


def generation_out(request: HttpRequest, venue: Venue, generation: Generation) -> Status[Any]:
    """201 with the new asset. The call's X-Request-ID becomes the request id its ledger entries
    carry (GET /credits), so a client can match a charge to the call that made it."""
    if generation.asset.request_id:
        request.request_id = generation.asset.request_id  # type: ignore[attr-defined]
    return Status(
        201,
        {
            "asset": asset_out(request, venue, generation.asset),
            "credits_charged": generation.credits_charged,
            "balance": generation.balance,
        },
    )


@router.post("/{slug}/images", response={201: GenerationOut, **error_responses(*PAID_ERRORS)})
def post_image(
    request: HttpRequest, slug: str, payload: ImageIn, key: str | None = idempotency_key()
) -> Status[Any]:
    """Generate an image (service `social.generateImage`), optionally from a reference photo."""
    venue = venue_for_key(request, slug)
    with at_most_once(key):
        generation = generate_image(
            venue=venue,
            user=request.user,
            prompt=payload.prompt,
            style=payload.style or "",
            reference=payload.reference_image or None,
            request_id=key or "",
        )
    return generation_out(request, venue, generation)


@router.post("/{slug}/images/{asset_id}/edit", response={201: GenerationOut, **error_responses(*PAID_ERRORS)})
def post_edit(
    request: HttpRequest, slug: str, asset_id: int, payload: EditIn, key: str | None = idempotency_key()
) -> Status[Any]:
    """A new version of an image asset (`parent_id` set); the asset is the reference image."""
    venue = venue_for_key(request, slug)
    asset = asset_for_venue(venue, asset_id, image=True)
    with at_most_once(key):
        generation = edit_image(
            venue=venue, user=request.user, asset=asset, instruction=payload.instruction, request_id=key or ""
        )
    return generation_out(request, venue, generation)


@router.post("/{slug}/text", response={201: GenerationOut, **error_responses(*PAID_ERRORS)})
def post_text(
    request: HttpRequest, slug: str, payload: TextIn, key: str | None = idempotency_key()
) -> Status[Any]:
    """Write a caption (service `social.writeCaption`; a failure is an alert of kind `chat`)."""
    venue = venue_for_key(request, slug)
    with at_most_once(key):
        generation = write_caption(
            venue=venue,
            user=request.user,
            prompt=payload.prompt,
            tone=payload.tone or "",
            request_id=key or "",
        )
    return generation_out(request, venue, generation)


@router.post("/{slug}/ocr", response={201: GenerationOut, **error_responses(*PAID_ERRORS)})
def post_ocr(
    request: HttpRequest, slug: str, payload: OcrIn, key: str | None = idempotency_key()
) -> Status[Any]:
    """Read a menu photo or PDF (service `menu.importFromPhoto`) into an `ocr` asset."""
    venue = venue_for_key(request, slug)
    with at_most_once(key):
        generation = import_menu(venue=venue, user=request.user, document=payload.image, request_id=key or "")
    return generation_out(request, venue, generation)


@router.post("/{slug}/embeddings", response={200: EmbeddingsOut, **error_responses(*EMBED_ERRORS)})
def post_embeddings(request: HttpRequest, slug: str, payload: EmbeddingsIn) -> dict[str, Any]:
    """Vectors for the inputs, all from the returned `model` (service `api.embeddings`)."""
    venue = venue_for_key(request, slug)
    embedding = embed_texts(venue=venue, user=request.user, inputs=list(payload.input))
    return {
        "model": embedding.model,
        "vectors": embedding.vectors,
        "credits_charged": embedding.credits_charged,
        "balance": embedding.balance,
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
