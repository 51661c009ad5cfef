"""Prove the books balance: every wallet equals the sum of its ledger entries. Exits non-zero
(CommandError → status 1) on any mismatch, so it can gate a deploy or page someone from cron."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credits.reconcile import ledger_mismatches


class Command(BaseCommand):
    help = "Check that every venue's wallet balance equals the sum of its ledger entries."

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_mismatches()
        for mismatch in mismatches:
            self.stderr.write(f"MISMATCH {mismatch}")
        if mismatches:
            raise CommandError(f"{len(mismatches)} wallet(s) disagree with their ledger.")
        self.stdout.write("Ledger OK: every wallet equals the sum of its entries.")
