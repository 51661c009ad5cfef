"""Drop attempt aggregates older than settings.OBSERVE_RETENTION_DAYS (run daily from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from observe.retention import prune


class Command(BaseCommand):
    help = "Delete attempt aggregates older than OBSERVE_RETENTION_DAYS (default 30 days)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = prune()
        self.stdout.write(f"Deleted {deleted} attempt bucket{'s' if deleted != 1 else ''}.")
