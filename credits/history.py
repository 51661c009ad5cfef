"""The credits history as pages of ledger entries, newest first (the venue's Credits page)."""

from __future__ import annotations

from django.core.paginator import Page, Paginator

from bitethemenu.models import Venue
from credits.models import LedgerEntry

ENTRIES_PER_PAGE = 25


def history_page(*, venue: Venue, page_number: str | None) -> Page[LedgerEntry]:
    """One page of the venue's ledger; a missing, malformed or out-of-range number gives the nearest page."""
    entries = LedgerEntry.objects.filter(venue=venue).order_by("-created_at", "-id")
    return Paginator(entries, ENTRIES_PER_PAGE).get_page(page_number)
