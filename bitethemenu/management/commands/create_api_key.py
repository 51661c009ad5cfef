"""`manage.py create_api_key USERNAME [--venue SLUG] [--name NAME]`: mint a bearer key for /api/v1/.

The key is printed alone on the last line of standard output; only its hash is stored, so this is
the only time it can be read. Rules (API.md "Auth"): a venue key's owner must be a member of that
venue or a superuser; a key without a venue (a platform key, for /api/v1/admin/) only for superusers.
Any refusal is a clear message on stderr and a non-zero exit, with nothing created.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bitethemenu.access import membership_for
from bitethemenu.models import ApiKey, Venue


class Command(BaseCommand):
    help = "Create an API key for USERNAME (for one venue with --venue, else a super admin's platform key)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--venue", metavar="SLUG", help="the venue the key acts for")
        parser.add_argument("--name", default="", help="a label to recognise the key by in the admin")

    def handle(self, *args: Any, username: str, venue: str | None, name: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive.")
        place = self._venue(user, venue) if venue is not None else None
        if place is None and not user.is_superuser:
            raise CommandError(f"{username!r} is not a superuser: only superusers get a key without --venue.")
        key, raw = ApiKey.mint(owner=user, venue=place, name=name[:100])
        scope = f"venue {place.slug}" if place else "platform (admin endpoints)"
        self.stdout.write(f"Created API key {key.prefix}… for {username}, {scope}. It is shown once:")
        self.stdout.write(raw)

    def _venue(self, user: User, slug: str) -> Venue:
        place = Venue.objects.filter(slug=slug).first()
        if place is None:
            raise CommandError(f"No venue with slug {slug!r}.")
        if not user.is_superuser and membership_for(user, place) is None:
            raise CommandError(f"{user.username!r} is not a member of {slug!r}.")
        return place
