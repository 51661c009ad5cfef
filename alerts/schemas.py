"""API schemas for the super admin's alerts inbox (API.md: Alert)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

AlertKind = Literal["image", "chat", "ocr", "embedding"]
PAGE_SIZE = 50  # alerts per page of GET /admin/alerts


class AlertFilters(Schema):
    """GET /admin/alerts query: `acknowledged` true/false, a service `kind`, a 1-based `page`."""

    acknowledged: bool | None = None
    kind: AlertKind | None = None
    page: int = Field(1, ge=1, le=100_000)


class AttemptOut(Schema):
    """One leg of the exhausted chain, in the order the cascade tried them."""

    label: str
    provider: str
    model: str
    outcome: str  # "ok" | "failed" | "skipped"
    reason: str
    status_code: int | None
    message: str
    duration_ms: int


class AlertOut(Schema):
    """An exhausted chain. `venue` is the venue's slug (null for platform calls); `last_error` is
    "label → reason (status): message" of the last failed attempt."""

    id: int
    kind: str
    service: str
    venue: str | None
    last_error: str
    created_at: datetime
    acknowledged: bool
    acknowledged_at: datetime | None
    attempts: list[AttemptOut]
    request_id: str


class AlertListOut(Schema):
    items: list[AlertOut]
    unacknowledged: int
    next_page: int | None


class AcknowledgedOut(Schema):
    acknowledged: int
