"""Refund credit holds that were never captured (the process died mid-call). Safe to run from
cron on several machines at once: each hold is refunded by exactly one of them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from credits.reconcile import refund_stale_holds


class Command(BaseCommand):
    help = "Refund credit holds older than CREDIT_HOLD_TTL_SECONDS that were never captured (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        refunded = refund_stale_holds()
        self.stdout.write(f"Refunded {refunded} stale hold(s).")
