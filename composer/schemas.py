"""API schemas for what venues make (API.md: Asset, generation bodies, embeddings, library).

An Asset never names a provider, a model or a chain leg: the venue never learns which leg answered.
Text fields are bounded loosely here; composer.services applies the real limits with calm copy.
Image fields are not length-capped here, so an oversize upload is a 413, not a 422.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from bitethemenu.schemas import ErrorOut, text
from composer.services import (
    EMBED_INPUT_MAX_LENGTH,
    EMBED_MAX_INPUTS,
    PROMPT_MAX_LENGTH,
    STYLE_MAX_LENGTH,
    TONE_MAX_LENGTH,
)

AssetKind = Literal["image", "text", "ocr"]

# The services' own limits, so the schema tells clients exactly what is accepted.
Prompt = text(PROMPT_MAX_LENGTH, required=True)
Style = text(STYLE_MAX_LENGTH)
Tone = text(TONE_MAX_LENGTH)
EmbedInput = text(EMBED_INPUT_MAX_LENGTH, required=True)
Query_ = text(PROMPT_MAX_LENGTH)
# Not length-capped: an oversize image must be a 413 (checked by composer.uploads), not a 422.
ImageData = text(2**31)


class AssetOut(Schema):
    """A Library item. `image_url` (images only) is this API's authenticated file URL."""

    id: int
    kind: AssetKind
    prompt: str
    style: str
    text: str
    image_url: str | None
    parent_id: int | None
    created_at: datetime


class GenerationOut(Schema):
    asset: AssetOut
    credits_charged: int
    balance: int


class ImageIn(Schema):
    """`reference_image`: base64 or a data URL of a PNG, JPEG or WebP photo (at most 10 MiB)."""

    prompt: Prompt  # type: ignore[valid-type]
    style: Style | None = ""  # type: ignore[valid-type]
    reference_image: ImageData | None = None  # type: ignore[valid-type]


class EditIn(Schema):
    instruction: Prompt  # type: ignore[valid-type]


class TextIn(Schema):
    prompt: Prompt  # type: ignore[valid-type]
    tone: Tone | None = ""  # type: ignore[valid-type]


class OcrIn(Schema):
    """`image`: base64 or a data URL of a PNG, JPEG, WebP or PDF (at most 10 MiB)."""

    image: ImageData  # type: ignore[valid-type]


class EmbeddingsIn(Schema):
    input: list[EmbedInput] = Field(min_length=1, max_length=EMBED_MAX_INPUTS)  # type: ignore[valid-type]


class EmbeddingsOut(Schema):
    """`model` is returned because vectors are comparable only within one model."""

    model: str
    vectors: list[list[float]]
    credits_charged: int
    balance: int


class LibraryFilters(Schema):
    kind: AssetKind | None = None
    q: Query_ = ""  # type: ignore[valid-type]
    page: int = Field(1, ge=1, le=100_000)


class LibraryOut(Schema):
    items: list[AssetOut]
    next_page: int | None
    word_matches: bool  # a search by meaning fell back to plain word matches


class JobOut(Schema):
    """A paid call queued with `Prefer: respond-async` (API.md "Jobs"). `result` is the body the
    synchronous call would have given; `error` the error body (credits refunded)."""

    id: int
    kind: str  # the service kind: image, chat, ocr, embedding
    service: str
    status: Literal["queued", "running", "succeeded", "failed"]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: GenerationOut | EmbeddingsOut | None
    error: ErrorOut | None


class JobsOut(Schema):
    items: list[JobOut]


class JobFilters(Schema):
    status: Literal["queued", "running", "succeeded", "failed"] | None = None
