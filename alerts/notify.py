"""Slack delivery for alerts (filled in below)."""

from __future__ import annotations


def enqueue(alert_id: int) -> None:
    """Hand an alert to Slack delivery, as ALERTS_DELIVERY says. Never raises."""
