"""Slack delivery as django.tasks tasks (run by `scripts/worker`); the logic is alerts.notify's."""

from __future__ import annotations

from django.tasks import task


@task
def deliver_alert(alert_id: int) -> str:
    """Send one recorded alert to Slack, or digest it. Returns its final slack_status."""
    from alerts import notify

    return notify.deliver(alert_id)


@task
def flush_digests() -> int:
    """Send the digests whose 5-minute window ended (queued with run_after for the window's end)."""
    from alerts import notify

    return notify.flush_digests()
