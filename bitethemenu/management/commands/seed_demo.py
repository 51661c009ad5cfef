"""Demo data for a fresh checkout: a super admin, "Demo Bistro" with a staff member and credits,
and the `simulated` provider as the venue's primary everywhere, so the demo needs no keys or network.
Idempotent: running it again changes nothing and prints the same logins."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction

from bitethemenu.models import Membership, Venue

DEMO_PASSWORD_ENV = "DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "bite-the-menu-demo"
DEMO_CREDITS = 200


class Command(BaseCommand):
    help = "Create demo users, the Demo Bistro venue, its credits and simulated AI settings (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get(DEMO_PASSWORD_ENV, DEFAULT_DEMO_PASSWORD)
        with transaction.atomic():
            admin = self._user("admin", password, superuser=True)
            staff = self._user("staff", password, superuser=False)
            owner = self._user("owner", password, superuser=False)
            venue, _ = Venue.objects.get_or_create(slug="demo-bistro", defaults={"name": "Demo Bistro"})
            Membership.objects.get_or_create(
                user=owner, venue=venue, defaults={"role": Membership.Role.OWNER}
            )
            Membership.objects.get_or_create(
                user=staff, venue=venue, defaults={"role": Membership.Role.STAFF}
            )
        self._seed_credits(venue, admin)
        self._seed_simulated_primaries(venue)
        self.stdout.write("Demo data ready.")
        self.stdout.write(f"  Super admin: admin / {password}   (/admin/)")
        self.stdout.write(f"  Venue owner: owner / {password}   (Demo Bistro)")
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

    def _seed_credits(self, venue: Venue, admin: User) -> None:
        from credits.gate import balance_of, grant

        if balance_of(venue) == 0:
            grant(venue=venue, amount=DEMO_CREDITS, note="Demo credits", by=admin)

    def _seed_simulated_primaries(self, venue: Venue) -> None:
        from resilience.primaries import set_primary
        from resilience.types import SERVICE_KINDS

        for kind in SERVICE_KINDS:
            set_primary(venue=venue, kind=kind, provider="simulated", model="ok")
