"""What the operator sees when a chain fails (ChainExhausted, its calm copy), and the normalised failure reasons.

FriendlyError and InvalidInput live in bitethemenu.errors, the ground floor every app may import.

The rule: the operator sees calm copy (`user_message`); the super admin sees everything (the alert).
`technical_detail` is for support tickets and must never hold a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from bitethemenu.errors import FriendlyError

if TYPE_CHECKING:
    from alerts.attempts import Attempt


class Reason(StrEnum):
    SAFETY = "safety"
    RATE_LIMIT = "rate_limit"
    QUOTA = "quota"
    MODEL_NOT_FOUND = "model_not_found"
    AUTH = "auth"
    TIMEOUT = "timeout"
    SERVER = "server"
    BAD_REQUEST = "bad_request"
    MALFORMED_RESPONSE = "malformed_response"
    SKIPPED = "skipped"


# Transient: the same call may work a moment later (KIE keeps polling a task through these).
TRANSIENT_REASONS = frozenset({Reason.RATE_LIMIT, Reason.SERVER, Reason.TIMEOUT})
# Worth a second try of the same candidate in one walk — only after every other candidate had its
# first try, and only if a full attempt still fits before the deadline (DESIGN.md "Move on first").
# A timeout is not among them: a candidate that hung once would most likely eat the rest of the walk.
SECOND_TRY_REASONS = frozenset({Reason.RATE_LIMIT, Reason.SERVER})


# The generic copy, when nothing better is known (e.g. an answer that held no image).
USER_MESSAGES = {
    "image": "We couldn't generate your image right now. Try again in a minute, or pick a different style.",
    "chat": "We couldn't write that text right now. Try again in a minute, or rephrase your request.",
    "ocr": "We couldn't read that menu right now. Try again in a minute, or upload a clearer photo.",
    "embedding": "Search by meaning is taking a break right now. We've shown matching words instead.",
}


class Cause(StrEnum):
    """Why a whole chain failed, as far as the operator can act on it."""

    OUTAGE = "outage"  # providers down, slow or rate-limited: it passes by itself
    CONFIGURATION = "configuration"  # keys, quotas, retired models: only the platform team can fix it
    CONTENT = "content"  # a provider's safety filter declined the request
    INPUT = "input"  # a provider refused the venue's own input (the photo, the file)


# Skips that mean "down or slow" rather than "not configured": an open breaker, a walk out of time.
TRANSIENT_SKIPS = frozenset({"breaker open", "deadline"})

# Copy by cause: what the operator can do about it. Embedding search falls back to word matches, so its
# copy says that whatever the cause.
CAUSE_MESSAGES: dict[Cause, dict[str, str]] = {
    Cause.OUTAGE: {
        "image": "We couldn't generate your image right now: our AI providers are busy or down. Try again in a minute.",
        "chat": "We couldn't write that text right now: our AI providers are busy or down. Try again in a minute.",
        "ocr": "We couldn't read that menu right now: our AI providers are busy or down. Try again in a minute.",
    },
    Cause.CONFIGURATION: {
        "image": "We couldn't generate your image right now because of a problem on our side. "
        "Our team has been alerted — nothing to change on your side.",
        "chat": "We couldn't write that text right now because of a problem on our side. "
        "Our team has been alerted — nothing to change on your side.",
        "ocr": "We couldn't read that menu right now because of a problem on our side. "
        "Our team has been alerted — nothing to change on your side.",
    },
    Cause.CONTENT: {
        "image": "We couldn't generate your image right now. Try rephrasing the description, or pick a different style.",
        "chat": "We couldn't write that text right now: the AI declined this request. Try rephrasing it.",
        "ocr": "We couldn't read that menu right now: the AI declined this file. Try a different photo of it.",
    },
    Cause.INPUT: {
        "image": "We couldn't generate your image right now: the AI couldn't use this request. "
        "Try a different photo, or leave the photo out.",
        "chat": "We couldn't write that text right now: the AI couldn't use this request. Try a shorter, simpler one.",
        "ocr": "We couldn't read that menu from this file. Try a clearer, well-lit photo of it, or a PDF.",
    },
}


def classify(attempts: Sequence[Attempt]) -> Cause:
    """The cause behind a failed chain, from its attempts (alerts.attempts.Attempt).

    A refusal of the request itself (safety, then a bad request) says most about what the operator can
    do, unless a provider was merely down or busy — then a retry may well work. With no such failure, the
    chain failed on configuration: keys not set, quotas, retired models, no enabled candidates.
    """
    failed = {a.reason for a in attempts if a.outcome == "failed"}
    transient = bool(failed & TRANSIENT_REASONS) or any(
        a.outcome == "skipped" and a.message in TRANSIENT_SKIPS for a in attempts
    )
    if Reason.SAFETY in failed:
        return Cause.CONTENT
    if transient:
        return Cause.OUTAGE
    if Reason.BAD_REQUEST in failed:
        return Cause.INPUT
    return Cause.CONFIGURATION


def user_message_for(kind: str, attempts: Sequence[Attempt]) -> str:
    """The operator's copy for a failed chain of `kind`: fitted to the cause, else the generic copy."""
    return (
        CAUSE_MESSAGES[classify(attempts)].get(kind, USER_MESSAGES[kind]) if attempts else USER_MESSAGES[kind]
    )


class ChainExhausted(FriendlyError):
    """Every candidate of a chain failed or was skipped. Raised by resilience.cascade.run after
    the alert is recorded; the credit gate refunds on it. The copy follows the cause (`classify`)."""

    http_status = 503

    def __init__(
        self, kind: str, technical_detail: str, *, attempts: tuple[Attempt, ...] = (), request_id: str = ""
    ):
        super().__init__(
            "ai_unavailable", user_message_for(kind, attempts), technical_detail, request_id=request_id
        )
        self.kind = kind
        self.attempts = attempts
        self.cause = classify(attempts) if attempts else None
