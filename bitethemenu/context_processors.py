from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from bitethemenu.access import venues_for_user


def venue(request: HttpRequest) -> dict[str, Any]:
    """The current venue and the venue switcher's choices, for the base layout."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    if request.path.startswith("/admin/"):
        return {}
    current = getattr(request, "venue", None)
    return {
        "current_venue": current if current else None,
        "switchable_venues": lambda: list(venues_for_user(request.user).order_by("name")),
    }
