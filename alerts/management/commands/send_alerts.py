"""`manage.py send_alerts [--once]`: the Slack worker for ALERTS_DELIVERY=worker (scale-out).

Several workers may run side by side: each alert is claimed with a conditional UPDATE
(pending → sending), so no alert is sent twice (healthchecks' sendalerts does the same).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from alerts import notify


class Command(BaseCommand):
    help = "Send pending alerts to Slack (and finished digests). Loops unless --once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes")

    def handle(self, *args: Any, once: bool = False, interval: float = 2.0, **options: Any) -> None:
        while True:
            handled = notify.deliver_pending()
            if once:
                self.stdout.write(f"Handled {handled} alert(s) or digest(s).")
                return
            if not handled:
                time.sleep(interval)
            close_old_connections()  # a long-lived loop must not keep a dead or stale connection
