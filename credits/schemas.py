"""API schemas for credits (API.md: GET /credits, POST /admin/venues, POST /admin/venues/{slug}/credits)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

from bitethemenu.schemas import SLUG_PATTERN, text
from credits.gate import MAX_GRANT, NOTE_MAX_LENGTH

VenueName = text(200, required=True)
Note = text(NOTE_MAX_LENGTH)
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]


class LedgerEntryOut(Schema):
    """One ledger line; `amount` is signed (charges negative)."""

    kind: Literal["grant", "charge", "refund", "adjustment"]
    amount: int
    request_id: str
    created_at: datetime
    note: str


class CreditsOut(Schema):
    balance: int
    entries: list[LedgerEntryOut]


class BalanceOut(Schema):
    balance: int


class VenueIn(Schema):
    name: VenueName  # type: ignore[valid-type]
    slug: Slug
    credits: int = Field(strict=True, ge=0, le=MAX_GRANT)


class VenueOut(Schema):
    slug: str
    name: str
    balance: int


class GrantIn(Schema):
    amount: int = Field(strict=True, gt=0, le=MAX_GRANT)
    note: Note  # type: ignore[valid-type]
