"""FriendlyError: the one error shape every layer raises and every surface renders.

The rule: the operator sees calm copy (`user_message`); the super admin sees everything (the alert).
`technical_detail` is for support tickets and must never hold a secret. It lives on the ground floor
(DESIGN.md "Contracts"): credits, composer, resilience and the API raise or render it, and dependencies
point one way, down to `bitethemenu`.
"""

from __future__ import annotations


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
