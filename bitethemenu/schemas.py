"""Schemas every API router shares: the one error shape and text fields clients may send.

Contract: docs/API.md. Every non-2xx answer of /api/v1/ is an `ErrorOut`; each operation lists
the error statuses it can return (`error_responses`) so the OpenAPI document tells clients — and
schemathesis — exactly what to expect.
"""

from __future__ import annotations

import re
from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, StringConstraints

# A venue slug as Django's SlugField accepts it; anything else cannot name a venue.
# (Used with fullmatch in Python, so "$" never accepts a trailing newline.)
SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,80}$"
SLUG_RE = re.compile(SLUG_PATTERN)
# Largest id a client may send: the biggest value a 64-bit signed primary key can hold.
MAX_ID = 2**63 - 1


def _storable(value: str) -> str:
    # PostgreSQL text holds neither NUL nor lone surrogates (JSON "\ud800" decodes to one):
    # refuse them here (422) instead of failing in the database (500).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def text(max_length: int, *, required: bool = False) -> object:
    """A string field: surrounding whitespace stripped, at most `max_length` characters, storable
    in any database. `required`: at least one non-space character (the schema says so too)."""
    constraints = StringConstraints(
        strip_whitespace=True,
        max_length=max_length,
        min_length=1 if required else None,
        pattern=r"\S" if required else None,
    )
    return Annotated[str, constraints, AfterValidator(_storable)]


class ErrorOut(Schema):
    """The single error shape (API.md "Errors"): calm copy for people, detail for support."""

    code: str
    user_message: str
    technical_detail: str
    request_id: str


# Status → the error codes it carries (API.md), for the OpenAPI descriptions.
ERROR_STATUSES = {
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_input",
    429: "rate_limited",
    500: "internal_error",
    503: "ai_unavailable",
}

# What any authenticated operation can answer with, whatever it does.
COMMON_ERRORS = (401, 403, 404, 422)


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """`response=` entries for the given statuses plus COMMON_ERRORS, all in the error shape."""
    return {status: ErrorOut for status in sorted({*COMMON_ERRORS, *statuses})}
