"""`manage.py send_alerts`: one pass over what the task worker could not deliver (a thin wrapper).

Slack delivery runs as django.tasks tasks (alerts.tasks) on the worker. This pass is the safety
net, for cron: alerts still pending (their task could not be queued, or their sender died) and
digests whose window ended. Safe to run anywhere, any number of times: each alert is claimed with
a conditional UPDATE, each window with a compare-and-swap, so nothing is sent twice.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from alerts import notify


class Command(BaseCommand):
    help = "One pass: send pending Slack alerts and finished digests (the task worker's safety net)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--once", action="store_true", help="accepted for old cron lines; always one pass"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handled = notify.deliver_pending()
        self.stdout.write(f"Handled {handled} alert(s) or digest(s).")
