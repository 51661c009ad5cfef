"""Retention of the attempt aggregates: settings.OBSERVE_RETENTION_DAYS days (30 by default)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from observe.models import AttemptBucket


def prune(*, moment: datetime | None = None) -> int:
    """Delete buckets that started before the retention window; returns how many. Safe to run
    concurrently and as often as you like (a plain range delete on the indexed bucket_start)."""
    cutoff = (moment or timezone.now()) - timedelta(days=settings.OBSERVE_RETENTION_DAYS)
    deleted, _ = AttemptBucket.objects.filter(bucket_start__lt=cutoff).delete()
    return deleted
