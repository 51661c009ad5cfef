"""FriendlyError: what the operator sees when AI fails, and the normalised failure reasons.

The rule: the operator sees calm copy (`user_message`); the super admin sees everything (the alert).
`technical_detail` is for support tickets and must never hold a secret.
"""

from __future__ import annotations

from enum import StrEnum


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


# Worth one more try on the same candidate (within the deadline, honouring Retry-After).
RETRYABLE_REASONS = frozenset({Reason.RATE_LIMIT, Reason.SERVER, Reason.TIMEOUT})


class FriendlyError(Exception):
    """An error with calm copy for the operator and a technical detail for support.

    Rendered by the amber banner on pages and as `{code, user_message, technical_detail,
    request_id}` by the API. `http_status` is what the API answers with.
    """

    http_status = 400

    def __init__(
        self,
        code: str,
        user_message: str,
        technical_detail: str = "",
        *,
        http_status: int | None = None,
        request_id: str = "",
    ):
        super().__init__(user_message)
        self.code = code
        self.user_message = user_message
        self.technical_detail = technical_detail
        self.request_id = request_id
        if http_status is not None:
            self.http_status = http_status

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "user_message": self.user_message,
            "technical_detail": self.technical_detail,
            "request_id": self.request_id,
        }


class InvalidInput(FriendlyError):
    """What was sent can't be used (empty, too long, not an image, an unknown choice…): shown next
    to the form, or as a 422 by the API. Raised before anything is written or charged."""

    http_status = 422

    def __init__(self, user_message: str, technical_detail: str = ""):
        super().__init__("invalid_input", user_message, technical_detail or user_message)


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

    def __init__(self, kind: str, technical_detail: str, *, attempts: tuple = (), request_id: str = ""):
        super().__init__("ai_unavailable", USER_MESSAGES[kind], technical_detail, request_id=request_id)
        self.kind = kind
        self.attempts = attempts
