"""What the operator sees when a chain fails (ChainExhausted, its calm copy), and the normalised failure reasons.

FriendlyError and InvalidInput live in bitethemenu.errors, the ground floor every app may import.

The rule: the operator sees calm copy (`user_message`); the super admin sees everything (the alert).
`technical_detail` is for support tickets and must never hold a secret.
"""

from __future__ import annotations

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


USER_MESSAGES = {
    "image": "We couldn't generate your image right now. Try again in a minute, or pick a different style.",
    "chat": "We couldn't write that text right now. Try again in a minute, or rephrase your request.",
    "ocr": "We couldn't read that menu right now. Try again in a minute, or upload a clearer photo.",
    "embedding": "Search by meaning is taking a break right now. We've shown matching words instead.",
}


class ChainExhausted(FriendlyError):
    """Every candidate of a chain failed or was skipped. Raised by resilience.cascade.run after
    the alert is recorded; the credit gate refunds on it."""

    http_status = 503

    def __init__(
        self, kind: str, technical_detail: str, *, attempts: tuple[Attempt, ...] = (), request_id: str = ""
    ):
        super().__init__("ai_unavailable", USER_MESSAGES[kind], technical_detail, request_id=request_id)
        self.kind = kind
        self.attempts = attempts
