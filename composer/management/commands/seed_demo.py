"""Demo data for a fresh checkout (DEBUG only): a super admin, "Demo Bistro" (slug `demo-bistro`) with an
owner, a staff member and credits, and a "Demo (offline)" simulated candidate at the end of every platform
chain, so "Platform default" answers with no keys and no network.

It composes credits, resilience and venues, which is why the composer (the app that depends on all of
them) owns it. Idempotent: running it again changes nothing and prints the same logins.
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bitethemenu.models import Membership, Venue
from credits.gate import balance_of, grant
from resilience.chains import load_specs, save_chain
from resilience.defaults import with_demo_candidate
from resilience.types import SERVICE_KINDS

DEMO_PASSWORD_ENV = "DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "bite-the-menu-demo"
DEMO_VENUE_SLUG = "demo-bistro"
DEMO_CREDITS = 200

REFUSAL = (
    "seed_demo only runs with DEBUG on: it creates a superuser with the public demo password and adds the "
    "offline demo provider to the platform's chains. Nothing was changed. For a local demo: DEBUG=1 scripts/manage seed_demo"
)


class Command(BaseCommand):
    help = (
        "DEBUG only: demo users, the Demo Bistro venue (slug demo-bistro) with credits, and an offline "
        "Demo candidate at the end of each platform chain (idempotent)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(REFUSAL)  # exit status 1, message on stderr
        password = os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)
        with transaction.atomic():
            admin = self._user("admin", password, superuser=True)
            staff = self._user("staff", password, superuser=False)
            owner = self._user("owner", password, superuser=False)
            venue, _ = Venue.objects.get_or_create(slug=DEMO_VENUE_SLUG, defaults={"name": "Demo Bistro"})
            Membership.objects.get_or_create(
                user=owner, venue=venue, defaults={"role": Membership.Role.OWNER}
            )
            Membership.objects.get_or_create(
                user=staff, venue=venue, defaults={"role": Membership.Role.STAFF}
            )
        if balance_of(venue) == 0:
            grant(venue=venue, amount=DEMO_CREDITS, note="Demo credits", by=admin)
        self._add_demo_candidates(admin)
        self.stdout.write("Demo data ready.")
        self.stdout.write(f"  Super admin: admin / {password}   (/admin/)")
        self.stdout.write(f"  Venue owner: owner / {password}   (Demo Bistro, slug {DEMO_VENUE_SLUG})")
        self.stdout.write(f"  Venue staff: staff / {password}   (Demo Bistro)")

    def _user(self, username: str, password: str, *, superuser: bool) -> User:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.is_staff = superuser
            user.is_superuser = superuser
            user.save()
        return user

    def _add_demo_candidates(self, admin: User) -> None:
        """Each platform chain ends with the Demo (offline) candidate; a chain that already does is left alone
        (no new revision), so re-running after a super admin's edits keeps their edits."""
        for kind in SERVICE_KINDS:
            specs = load_specs(kind)
            wanted = with_demo_candidate(specs)
            if wanted != specs:
                save_chain(kind=kind, specs=wanted, user=admin, summary_prefix="Demo data")
