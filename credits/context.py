"""Template context for the page header: the current venue's credit balance."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest

from credits import gate


def balance(request: HttpRequest) -> dict[str, Any]:
    """`credit_balance`: a callable the template resolves (one query) only when the header shows
    it; None when there is no signed-in user with a current venue. Nothing on admin pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith("/admin/"):
        return {}

    @cache
    def current() -> int | None:
        venue = getattr(request, "venue", None)
        return gate.balance_of(venue) if venue else None

    return {"credit_balance": current}
