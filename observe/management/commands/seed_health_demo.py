"""Fill the health page with a simulated week of traffic (demo and screenshots; refuses DEBUG off)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from observe.demo import seed_week


class Command(BaseCommand):
    help = "Replace the last week's attempt aggregates with simulated traffic (for demos; DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--scale", type=float, default=1.0, help="multiplies the request rates")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_health_demo overwrites real health data: it runs only with DEBUG on.")
        calls = seed_week(days=options["days"], scale=options["scale"])
        self.stdout.write(f"Seeded {calls:,} simulated attempts over {options['days']} days.")
