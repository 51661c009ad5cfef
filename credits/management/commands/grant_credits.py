"""Top up a venue from the command line: `manage.py grant_credits <venue-slug> <amount> --note ...`.
Bad input (unknown venue, a non-integer or non-positive amount) is a clear error; nothing is written."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from credits import gate


class Command(BaseCommand):
    help = "Grant credits to a venue (a top-up), recorded in its ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("venue", help="the venue's slug")
        parser.add_argument("amount", help="a whole number of credits above zero")
        parser.add_argument("--note", default="", help="why (shown in the ledger)")
        parser.add_argument("--by", default="", help="username to record as the granter")

    def handle(self, *args: Any, venue: str, amount: str, note: str, by: str, **options: Any) -> None:
        try:
            credits = int(amount.strip())
        except ValueError:
            raise CommandError(f"Amount must be a whole number of credits, not {amount!r}.") from None
        target = Venue.objects.filter(slug=venue).first()
        if target is None:
            raise CommandError(f"No venue with slug {venue!r}.")
        user = None
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"No user named {by!r}.")
        try:
            gate.grant(venue=target, amount=credits, note=note, by=user)
        except FriendlyError as exc:
            raise CommandError(f"{exc.user_message} ({exc.technical_detail})") from None
        self.stdout.write(
            f"Granted {credits} credits to {target.name}; balance is now {gate.balance_of(target)}."
        )
