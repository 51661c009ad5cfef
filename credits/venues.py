"""Opening a venue: the one write path that creates one, with its starting credits.

Every surface calls `open_venue`: the API's POST /admin/venues and the admin's "Open a venue" page
(Django admin's own "Add venue" is switched off). It lives in credits, not in bitethemenu where the
Venue model is, because it grants the opening credits and dependencies point down
(`composer → credits → … → bitethemenu`): the platform core must not import the ledger.
"""

from __future__ import annotations

import unicodedata

from django.db import IntegrityError, transaction

from bitethemenu.errors import FriendlyError, InvalidInput
from bitethemenu.models import Venue
from bitethemenu.schemas import SLUG_RE
from credits.gate import MAX_GRANT, grant

NAME_MAX_LENGTH = 200  # Venue.name


def _venue_exists(slug: str) -> FriendlyError:
    return FriendlyError(
        "conflict",
        "A venue with that address already exists. Pick another slug.",
        f"venue slug {slug!r} is taken",
        http_status=409,
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("Give the venue a name.", "empty venue name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"A venue name has at most {NAME_MAX_LENGTH} characters.", "venue name too long")
    if any(unicodedata.category(ch) in {"Cc", "Cs", "Zl", "Zp"} for ch in name):
        raise InvalidInput(
            "Remove the invisible control characters from the name.", "control character in name"
        )
    return name


def _check_credits(credits: int) -> int:
    if isinstance(credits, bool) or not isinstance(credits, int) or not 0 <= credits <= MAX_GRANT:
        raise InvalidInput(f"Start with 0 to {MAX_GRANT:,} credits.", f"starting credits {credits!r}")
    return credits


@transaction.atomic
def open_venue(*, name: str, slug: str, credits: int = 0, by: object = None) -> Venue:
    """Create a venue with a starting balance (a grant when `credits` > 0), all or nothing.

    Raises FriendlyError `conflict` (409) when the slug is taken, even by a racing request, and
    `invalid_input` (422) for an empty or over-long name, a slug that is not one, or credits outside
    0..MAX_GRANT; nothing is written then.
    """
    name, credits = _clean_name(name), _check_credits(credits)
    if not SLUG_RE.fullmatch(slug):
        raise InvalidInput("A slug has letters, digits, hyphens and underscores only.", f"bad slug {slug!r}")
    if Venue.objects.filter(slug=slug).exists():
        raise _venue_exists(slug)
    try:
        with transaction.atomic():
            venue = Venue.objects.create(name=name, slug=slug)
    except IntegrityError:
        raise _venue_exists(slug) from None
    if credits:
        grant(venue=venue, amount=credits, note="Starting credits", by=by)
    return venue
