"""What venues do with AI: generate, edit, caption, import a menu, embed, search the library.

Every surface (the Composer pages and the HTTP API) calls these functions; they never do it
themselves. Each paid call follows the same path:

1. validate the input — bad input raises FriendlyError `invalid_input` before anything is charged;
2. `credits.gate.held(...)` charges the venue, and refunds it on any exception;
3. `resilience.cascade.run(...)` walks the venue's primary then the super admin's chain
   (on exhaustion it records the alert and raises ChainExhausted, which propagates);
4. the Asset is saved inside the held block, so a failed save is refunded too.

Nothing returned here says which provider or chain leg answered: the venue never learns it.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db.models import QuerySet

from bitethemenu import ratelimits
from bitethemenu.errors import FriendlyError, InvalidInput
from bitethemenu.models import Venue
from composer import search
from composer.models import Asset, AssetEmbedding
from composer.uploads import decode_image
from credits import gate
from resilience import cascade, pricing
from resilience.errors import USER_MESSAGES, Cause
from resilience.types import AIOutput, AIRequest

logger = logging.getLogger(__name__)

PROMPT_MAX_LENGTH = 2000
STYLE_MAX_LENGTH = 60  # Asset.style
TONE_MAX_LENGTH = 60
EMBED_MAX_INPUTS = 64
EMBED_INPUT_MAX_LENGTH = 8000
DEFAULT_PAGE_SIZE = 24
LIBRARY_SERVICE = "library.search"  # the Library's own embeddings (indexing, search by meaning)
# How many not-yet-indexed assets one search embeds alongside its query (keeps a search quick).
INDEX_BATCH = 64

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}

EDIT_UNAVAILABLE_MESSAGE = (
    "We couldn't save your edit right now. Try again in a minute, or describe the change another way."
)
# The editor's copy for an exhausted chain, by cause (resilience.errors.Cause): the image chain's own
# copy speaks of generating and of styles, and the editor has neither.
EDIT_MESSAGES: dict[Cause, str] = {
    Cause.OUTAGE: "We couldn't save your edit right now: our AI providers are busy or down. "
    "Try again in a minute.",
    Cause.CONFIGURATION: "We couldn't save your edit right now because of a problem on our side. "
    "Our team has been alerted — nothing to change on your side.",
    Cause.CONTENT: EDIT_UNAVAILABLE_MESSAGE,
    Cause.INPUT: "We couldn't save your edit right now: the AI could not work from this picture. "
    "Try editing another version of it.",
}
UNREADABLE_IMAGE_MESSAGE = "We couldn't open that image. Try generating it again."
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
ALREADY_SUBMITTED_MESSAGE = (
    "That was sent twice, so we're only doing it once. It will be in your Library in a "
    "moment — if it isn't, just try again."
)


@dataclass(frozen=True)
class Generation:
    """A successful paid call: the new Library asset, what it cost and the balance after."""

    asset: Asset
    credits_charged: int
    balance: int


@dataclass(frozen=True)
class Embedding:
    """Vectors for the inputs, in order, all from `model` (compare only within one model)."""

    model: str
    vectors: list[list[float]]
    credits_charged: int
    balance: int


@dataclass(frozen=True)
class LibraryPage:
    """One page of the Library, newest first or best match first.

    `word_matches` is True when a search by meaning was asked for but the embedding chain was
    unavailable, so the items are plain word matches (the page says so, calmly).
    """

    items: list[Asset]
    next_page: int | None
    word_matches: bool = False


@dataclass(frozen=True)
class PaidCall:
    """One validated paid call, before it runs: what the chain gets and what the new asset holds.
    Built by `image_call`, `edit_call`, `caption_call` and `menu_call` (which validate the input),
    then run directly (`_generate`) or on a task worker (composer.jobs)."""

    kind: str
    service: str
    request: AIRequest
    asset_fields: dict[str, Any]
    # The path's own copy for an exhausted chain, by cause (the editor's: EDIT_MESSAGES); empty → the chain's.
    copy_by_cause: dict[Cause, str] = field(default_factory=dict)


def new_request_id() -> str:
    return uuid.uuid4().hex


def _clean_text(value: Any, *, field: str, required: bool, max_length: int, empty_message: str = "") -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} must be text.", f"{field} must be a string")
    value = value.strip()
    if required and not value:
        raise InvalidInput(empty_message or f"Please enter a {field}.", f"{field} is empty")
    if len(value) > max_length:
        raise InvalidInput(
            f"Please keep the {field} under {max_length:,} characters.",
            f"{field} is {len(value)} characters (max {max_length})",
        )
    return str(value)


def _clean_prompt(prompt: Any, *, field: str = "prompt", message: str = "") -> str:
    return _clean_text(
        prompt,
        field=field,
        required=True,
        max_length=PROMPT_MAX_LENGTH,
        empty_message=message or "Describe what you'd like first — a sentence is plenty.",
    )


def _run(
    kind: str,
    request: AIRequest,
    *,
    venue: Venue,
    service: str,
    request_id: str,
    on_attempt: Callable[[str], None] | None = None,
) -> AIOutput:
    """The cascade, with the request id stamped on any FriendlyError for support tickets."""
    try:
        return cascade.run(
            kind, request, venue=venue, service=service, request_id=request_id, on_attempt=on_attempt
        ).output
    except FriendlyError as error:
        error.request_id = error.request_id or request_id
        raise


def _generate(*, venue: Venue, user: Any, call: PaidCall, request_id: str = "") -> Generation:
    """The one paid path: hold credits, run the chain, save the asset; refund on any failure.

    `request_id` (optional) is the caller's idempotency key: the gate charges a venue at most
    once per request id, so a repeat of the same id is refused (409 `conflict`, calm copy)
    before anything runs, whether the first is still working, succeeded or failed."""
    request_id = clean_request_id(request_id)
    asset = None
    try:
        cost = admit(venue=venue, user=user, kind=call.kind, service=call.service)
        with gate.held(
            venue=venue, kind=call.kind, request_id=request_id, by=_user_or_none(user), cost=cost
        ) as charged:
            asset = perform(call, venue=venue, user=user, request_id=request_id)
    except gate.ResultDiscarded:
        discard(asset)  # refunded while it ran: never delivered free (docs/CONTRACTS.md)
        raise
    except FriendlyError as error:
        raise calm_error(error, call=call, request_id=request_id) from None
    except Exception as exc:
        raise unexpected_error(call=call, request_id=request_id) from exc
    enqueue_indexing(asset)
    return Generation(asset=asset, credits_charged=charged.cost, balance=gate.balance_of(venue))


def admit(*, venue: Venue, user: Any, kind: str, service: str) -> int:
    """Before anything is charged: the rate limits (FriendlyError `rate_limited`, 429), then the
    price of this call for this venue (its primary model's, or the kind's default).

    The Library's own embeddings (indexing a new asset, a search) are not counted: they follow
    the venue's paid calls and searches, and the daily free allowance meters them."""
    if service != LIBRARY_SERVICE:
        ratelimits.check_paid_call(venue=venue, actor=_user_or_none(user))
    return pricing.credits_for(venue, kind)


def discard(asset: Asset | None) -> None:
    if asset is not None:
        asset.image.delete(save=False)
        asset.delete()


def perform(
    call: PaidCall,
    *,
    venue: Venue,
    user: Any,
    request_id: str,
    on_attempt: Callable[[str], None] | None = None,
) -> Asset:
    """Run the chain for a charged call and save its asset (no credits here: the caller holds them)."""
    output = _run(
        call.kind,
        call.request,
        venue=venue,
        service=call.service,
        request_id=request_id,
        on_attempt=on_attempt,
    )
    return _save_asset(venue=venue, user=user, output=output, request_id=request_id, **call.asset_fields)


def calm_error(error: FriendlyError, *, call: PaidCall | None, request_id: str) -> FriendlyError:
    """The FriendlyError a paid call gives its caller: a repeated submission gets copy that says
    so, the editor's exhausted chain gets the editor's copy; stamped with the request id."""
    if error.code == "conflict":  # the same submission again (a double click, a reload)
        return FriendlyError(
            "conflict",
            ALREADY_SUBMITTED_MESSAGE,
            error.technical_detail,
            http_status=409,
            request_id=request_id,
        )
    cause = getattr(error, "cause", None)
    if call is not None and error.code == "ai_unavailable" and cause in call.copy_by_cause:
        error.user_message = call.copy_by_cause[cause]
    error.request_id = error.request_id or request_id
    return error


def unexpected_error(*, call: PaidCall, request_id: str) -> FriendlyError:
    """A bug or an outage below us (the caller refunds): logged for us, and the operator gets the
    same calm answer as an exhausted chain instead of a Server Error."""
    logger.exception("%s failed unexpectedly (request %s)", call.service, request_id)
    return FriendlyError(
        "ai_unavailable",
        call.copy_by_cause.get(Cause.OUTAGE, USER_MESSAGES[call.kind]),
        f"{call.service}: unexpected error",
        http_status=503,
        request_id=request_id,
    )


def enqueue_indexing(asset: Asset) -> None:
    """Library indexing (an embedding call) is its own job, off the Generate path. Best effort:
    if it cannot even be queued, the next search by meaning catches the asset up."""
    from composer import tasks  # the task module imports this one

    if not search.index_text(asset):
        return
    try:
        tasks.index_asset.enqueue(asset.pk)
    except Exception:  # noqa: BLE001 — a paid, saved generation must not fail over its index
        logger.exception("could not queue indexing of asset %s", asset.pk)


def clean_request_id(request_id: str) -> str:
    """The caller's idempotency key (letters, digits, - and _; 8 to 64), or a new id when none."""
    if not request_id:
        return new_request_id()
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise InvalidInput(
            "Something went wrong with this form. Please reload the page and try again.",
            "request_id must be 8-64 letters, digits, - or _",
        )
    return request_id


def _user_or_none(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _save_asset(
    *, venue: Venue, user: Any, output: AIOutput, request_id: str, kind: str, **fields: Any
) -> Asset:
    asset = Asset(venue=venue, kind=kind, created_by=_user_or_none(user), request_id=request_id, **fields)
    if kind == Asset.Kind.IMAGE:
        if not output.image:
            # Adapters never return an empty image; if one did, failing here refunds the venue.
            raise FriendlyError(
                "ai_unavailable", USER_MESSAGES["image"], "the answer held no image", http_status=503
            )
        try:
            data, mime = decode_image(output.image)
        except FriendlyError as error:
            # The provider's answer, not the operator's upload: never "upload a PNG" copy for it.
            logger.warning("unusable image answer for request %s: %s", request_id, error.technical_detail)
            raise FriendlyError(
                "ai_unavailable",
                USER_MESSAGES["image"],
                f"the answer's image was unusable ({error.code})",
                http_status=503,
            ) from None
        asset.image_mime = mime
        asset.image.save(f"{request_id}.{_EXTENSIONS[mime]}", ContentFile(data), save=False)
    else:
        asset.text = output.text
    asset.save()
    return asset


def generate_image(
    *,
    venue: Venue,
    user: Any,
    prompt: str,
    style: str = "",
    reference: str | bytes | None = None,
    request_id: str = "",
) -> Generation:
    """Generate an image through the image chain (service `social.generateImage`) and save it to
    the Library.

    `reference` (optional): the venue's own photo as raw bytes, base64 or a data URL (PNG, JPEG,
    WebP; at most 10 MiB). Raises FriendlyError `invalid_input` / `payload_too_large` for bad
    input and `insufficient_credits` (402) — in those cases nothing is charged or written — and
    ChainExhausted when every candidate failed (the gate refunds, the cascade records the alert).
    `request_id` (optional, every paid call takes it): an idempotency key — a second call with
    the same id is refused with FriendlyError `conflict` (409) and is neither charged nor run.
    """
    call = image_call(prompt=prompt, style=style, reference=reference)
    return _generate(venue=venue, user=user, call=call, request_id=request_id)


def image_call(*, prompt: str, style: str = "", reference: str | bytes | None = None) -> PaidCall:
    """A validated `social.generateImage` call (raises FriendlyError for bad input)."""
    prompt = _clean_prompt(prompt)
    style = _clean_text(style, field="style", required=False, max_length=STYLE_MAX_LENGTH)
    ref_bytes, ref_mime = decode_image(reference) if reference else (None, "")
    request = AIRequest(prompt=prompt, style=style, reference_image=ref_bytes, reference_mime=ref_mime)
    return PaidCall(
        kind="image",
        service="social.generateImage",
        request=request,
        asset_fields={"kind": Asset.Kind.IMAGE, "prompt": prompt, "style": style},
    )


def edit_image(
    *, venue: Venue, user: Any, asset: Asset, instruction: str, request_id: str = ""
) -> Generation:
    """A new version of an image asset: the asset's image is the reference, `instruction` says
    what to change (service `editor.editImage`). The new asset's `parent` is `asset`.

    Raises FriendlyError `not_found` (404) if the asset is not one of this venue's images,
    `invalid_input` for an empty instruction, and as `generate_image` otherwise.
    """
    call = edit_call(venue=venue, asset=asset, instruction=instruction)
    return _generate(venue=venue, user=user, call=call, request_id=request_id)


def edit_call(*, venue: Venue, asset: Asset, instruction: str) -> PaidCall:
    """A validated `editor.editImage` call: the asset's image is the reference."""
    if asset.venue_id != venue.pk or asset.kind != Asset.Kind.IMAGE or not asset.image:
        raise FriendlyError(
            "not_found",
            "We couldn't find that image.",
            f"asset {asset.pk} is not an image of this venue",
            http_status=404,
        )
    instruction = _clean_prompt(
        instruction, field="instruction", message="Say what you'd like to change — a sentence is plenty."
    )
    reference, mime = _read_image(asset)
    request = AIRequest(prompt=instruction, style=asset.style, reference_image=reference, reference_mime=mime)
    return PaidCall(
        kind="image",
        service="editor.editImage",
        request=request,
        asset_fields={
            "kind": Asset.Kind.IMAGE,
            "prompt": asset.title_for_edit(instruction),  # a search for the dish still finds it
            "style": asset.style,
            "parent": asset,
        },
        copy_by_cause=EDIT_MESSAGES,
    )


def _read_image(asset: Asset) -> tuple[bytes, str]:
    try:
        with asset.image.open("rb") as handle:
            data = handle.read()
    except OSError:
        raise FriendlyError(
            "not_found",
            UNREADABLE_IMAGE_MESSAGE,
            f"the file for asset {asset.pk} is missing",
            http_status=404,
        ) from None
    try:
        return decode_image(data)
    except FriendlyError as error:  # a damaged stored file: not something the operator uploaded
        raise FriendlyError(
            "not_found",
            UNREADABLE_IMAGE_MESSAGE,
            f"the file for asset {asset.pk} is unusable ({error.code})",
            http_status=404,
        ) from None


def write_caption(
    *, venue: Venue, user: Any, prompt: str, tone: str = "", request_id: str = ""
) -> Generation:
    """Write a social caption through the chat chain (service `social.writeCaption`); the
    Library gets a `text` asset. Errors as `generate_image`."""
    call = caption_call(venue=venue, prompt=prompt, tone=tone)
    return _generate(venue=venue, user=user, call=call, request_id=request_id)


def caption_call(*, venue: Venue, prompt: str, tone: str = "") -> PaidCall:
    """A validated `social.writeCaption` call."""
    prompt = _clean_prompt(prompt, message="Tell us what the post is about — a sentence is plenty.")
    tone = _clean_text(tone, field="tone", required=False, max_length=TONE_MAX_LENGTH)
    system = (
        f"You write short, warm social media captions for {venue.name}, a restaurant. "
        "Reply with the caption only." + (f" Tone: {tone}." if tone else "")
    )
    return PaidCall(
        kind="chat",
        service="social.writeCaption",
        request=AIRequest(prompt=prompt, system=system),
        asset_fields={"kind": Asset.Kind.TEXT, "prompt": prompt, "style": tone},
    )


def import_menu(
    *, venue: Venue, user: Any, document: str | bytes, mime: str = "", request_id: str = ""
) -> Generation:
    """Read a menu photo or PDF through the OCR chain (service `menu.importFromPhoto`); the
    Library gets an `ocr` asset holding the text.

    The document is re-checked here whatever `mime` says (PNG, JPEG, WebP or PDF, at most
    10 MiB), so every surface gets the same calm `invalid_input` / `payload_too_large`.
    """
    return _generate(venue=venue, user=user, call=menu_call(document=document), request_id=request_id)


def menu_call(*, document: str | bytes) -> PaidCall:
    """A validated `menu.importFromPhoto` call (the document is sniffed, whatever it claims)."""
    data, sniffed = decode_image(document, allow_pdf=True)
    return PaidCall(
        kind="ocr",
        service="menu.importFromPhoto",
        request=AIRequest(document=data, document_mime=sniffed),
        asset_fields={"kind": Asset.Kind.OCR, "prompt": "Menu import"},
    )


# --- Embeddings and the Library ------------------------------------------------------------------


def clean_inputs(inputs: Any) -> tuple[str, ...]:
    if isinstance(inputs, str) or not isinstance(inputs, list | tuple) or not inputs:
        raise InvalidInput("Send a list of texts to embed.", "input must be a non-empty list of strings")
    if len(inputs) > EMBED_MAX_INPUTS:
        raise InvalidInput(f"Send at most {EMBED_MAX_INPUTS} texts at a time.", f"{len(inputs)} inputs")
    return tuple(
        _clean_text(text, field="text", required=True, max_length=EMBED_INPUT_MAX_LENGTH) for text in inputs
    )


def embed_texts(
    *, venue: Venue, user: Any, inputs: list[str], service: str = "api.embeddings", request_id: str = ""
) -> Embedding:
    """Vectors for `inputs` through the embedding chain. All vectors come from one model, which is
    returned: vectors are comparable only within one model.

    Raises FriendlyError `invalid_input` for an empty list or empty/oversized texts (nothing
    charged), `insufficient_credits`, and ChainExhausted (refunded, alert recorded).
    """
    call = embedding_call(inputs=inputs, service=service)
    request_id = request_id or new_request_id()
    try:
        cost = admit(venue=venue, user=user, kind="embedding", service=service)
        with gate.held(
            venue=venue, kind="embedding", request_id=request_id, by=_user_or_none(user), cost=cost
        ) as charged:
            model, vectors = embed(call, venue=venue, request_id=request_id)
    except FriendlyError as error:
        error.request_id = error.request_id or request_id
        raise
    return Embedding(
        model=model, vectors=vectors, credits_charged=charged.cost, balance=gate.balance_of(venue)
    )


def embedding_call(*, inputs: list[str], service: str = "api.embeddings") -> PaidCall:
    """A validated embeddings call (no asset: its answer is the model and the vectors)."""
    return PaidCall(
        kind="embedding", service=service, request=AIRequest(inputs=clean_inputs(inputs)), asset_fields={}
    )


def embed(
    call: PaidCall, *, venue: Venue, request_id: str, on_attempt: Callable[[str], None] | None = None
) -> tuple[str, list[list[float]]]:
    """Run a charged embeddings call: (model, one vector per input, in order)."""
    texts = call.request.inputs
    output = _run(
        "embedding",
        call.request,
        venue=venue,
        service=call.service,
        request_id=request_id,
        on_attempt=on_attempt,
    )
    if len(output.vectors) != len(texts):
        raise FriendlyError(
            "ai_unavailable",
            "Search by meaning is taking a break right now.",
            f"{len(output.vectors)} vectors for {len(texts)} inputs",
            http_status=503,
        )
    return output.model, [[float(x) for x in vector] for vector in output.vectors]


def embedding_ready(venue: Venue) -> bool:
    """Could any embedding candidate run at all for this venue? Configuration only (a known
    provider, a model, its key set; one query, no network, the breaker is not consulted).

    Library indexing and search ask first: when nothing is ready (say no embedding key is set on
    this platform) nothing would be tried, so they skip quietly instead of writing an alert for
    every new asset and every search. The AI Fallbacks page already shows those candidates as
    Skipped. Ready candidates that fail still exhaust the chain, and that still alerts."""
    probe = AIRequest(inputs=("",))
    return any(
        not cascade.config_skip_reason("embedding", candidate, probe)
        for candidate in cascade.plan("embedding", venue=venue)
    )


def index_asset(*, venue: Venue, user: Any, asset: Asset) -> bool:
    """Best effort: store a vector for a new asset (with its model). Never raises — a failed
    index must never fail the generation; the next search by meaning catches it up. Skips
    quietly (no chain walk, no alert) when no embedding candidate is ready."""
    text = search.index_text(asset)
    if not text:
        return False
    try:
        if not embedding_ready(venue):
            return False
        embedding = embed_texts(venue=venue, user=user, inputs=[text], service="library.search")
        _store_vectors(assets=[asset], embedding=embedding)
    except FriendlyError:  # the chain is down (it has alerted): only a missing vector
        return False
    except Exception:  # noqa: BLE001 — a bug or an outage here must not fail a paid, saved generation
        logger.exception("indexing asset %s failed", asset.pk)
        return False
    return True


def _store_vectors(*, assets: list[Asset], embedding: Embedding) -> None:
    rows = [
        AssetEmbedding(asset=asset, model=embedding.model[:200], vector=vector)
        for asset, vector in zip(assets, embedding.vectors, strict=True)
    ]
    AssetEmbedding.objects.bulk_create(rows, ignore_conflicts=True)


def library_queryset(*, venue: Venue, kind: str | None = None) -> QuerySet[Asset]:
    """The venue's assets, newest first, optionally one kind (`image`, `text` or `ocr`)."""
    assets = Asset.objects.filter(venue=venue, archived_at__isnull=True).select_related("parent")
    if kind:
        if kind not in Asset.Kind.values:
            raise InvalidInput("Pick images, captions or menu text.", f"unknown asset kind {kind!r}")
        assets = assets.filter(kind=kind)
    return assets.order_by("-created_at", "-id")


def _paginate(
    items: list[Asset] | QuerySet[Asset], *, page: int, page_size: int, word_matches: bool = False
) -> LibraryPage:
    window, next_page = search.page_window(items, page=page, page_size=page_size)
    return LibraryPage(items=window, next_page=next_page, word_matches=word_matches)


def _rank_by_meaning(*, venue: Venue, assets: QuerySet[Asset], query: str) -> list[Asset]:
    """Assets ranked by cosine similarity to the query, comparing only vectors made by the model
    that embedded the query. Raises FriendlyError when the query cannot be embedded."""
    query_embedding = embed_texts(venue=venue, user=None, inputs=[query], service="library.search")
    model, query_vector = query_embedding.model, query_embedding.vectors[0]
    _catch_up_index(venue=venue, assets=assets, model=model)
    rows = AssetEmbedding.objects.filter(asset__in=assets, model=model).values_list("asset_id", "vector")
    ranked = search.rank(query_vector, rows)
    by_id = assets.in_bulk(ranked)
    return [by_id[pk] for pk in ranked if pk in by_id]


def _catch_up_index(*, venue: Venue, assets: QuerySet[Asset], model: str) -> None:
    """Best effort: embed (a batch of) assets that have no vector from `model` yet — new ones
    whose indexing failed, or all of them after the chain moved to another model. Vectors that
    come back from a different model are dropped: they would not compare with the query's."""
    missing = list(assets.exclude(embeddings__model=model).order_by("-created_at", "-id")[:INDEX_BATCH])
    missing = [asset for asset in missing if search.index_text(asset)]
    if not missing:
        return
    try:
        embedding = embed_texts(
            venue=venue, user=None, inputs=[search.index_text(a) for a in missing], service="library.search"
        )
    except FriendlyError:
        return
    if embedding.model == model:
        _store_vectors(assets=missing, embedding=embedding)


def search_library(
    *,
    venue: Venue,
    query: str = "",
    kind: str | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> LibraryPage:
    """One page of the venue's Library: everything newest first, or with `query`, by meaning
    (service `library.search`), best match first.

    When the embedding chain is unavailable the search falls back calmly to word matches on
    prompt/text and marks the page `word_matches=True`; it never raises for that (and when no
    embedding candidate is even configured, it goes straight to words: no walk, no alert). Raises
    FriendlyError `invalid_input` for an unknown `kind`.
    """
    page = max(1, int(page or 1))
    assets = library_queryset(venue=venue, kind=kind or None)
    query = (query or "").strip()[:PROMPT_MAX_LENGTH]
    if not query:
        return _paginate(assets, page=page, page_size=page_size)
    if not embedding_ready(venue):  # nothing to try: words, without an alert per search
        return _paginate(
            search.word_matches(assets, query), page=page, page_size=page_size, word_matches=True
        )
    try:
        ranked = _rank_by_meaning(venue=venue, assets=assets, query=query)
    except FriendlyError:
        return _paginate(
            search.word_matches(assets, query), page=page, page_size=page_size, word_matches=True
        )
    return _paginate(ranked, page=page, page_size=page_size)
