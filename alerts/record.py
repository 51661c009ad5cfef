"""Recording exhausted chains and acknowledging them: the only writers of Alert rows.

The cascade calls `record_exhaustion` once per exhausted request; the admin inbox and the API call
`acknowledge` / `acknowledge_all`. Slack is never called from here: delivery is handed to
`alerts.notify` on commit, so a rolled-back request sends nothing and Slack can never slow or break
the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts import notify
from alerts.attempts import Attempt, most_informative
from alerts.models import Alert, AlertAttempt, SlackStatus

MAX_DURATION_MS = 2**31 - 1  # the largest value a PositiveIntegerField holds on every database


def _storable(text: str, limit: int | None = None) -> str:
    """`text` as every database can store it: no NUL (PostgreSQL refuses it) and no lone surrogate
    (no UTF-8 encoding), then cut to the column size. Provider messages are free text; one odd
    byte in them must never cost the alert its row."""
    text = (text or "").replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit is not None else text


def _http_status(code: int | None) -> int | None:
    # An HTTP status or nothing: anything else would overflow the small positive integer column.
    return code if code is not None and 0 <= code < 1000 else None


def _last_error(attempts: Sequence[Attempt]) -> str:
    """The alert's one-line summary: the most informative failed leg (not a trailing skip)."""
    leg = most_informative(attempts)
    return _storable(leg.summary if leg else "")


def _attempt_row(alert: Alert, position: int, attempt: Attempt) -> AlertAttempt:
    return AlertAttempt(
        alert=alert,
        position=position,
        label=_storable(attempt.label, 200),
        provider=_storable(attempt.provider, 50),
        model=_storable(attempt.model, 200),
        outcome=_storable(attempt.outcome, 20),
        reason=_storable(attempt.reason, 40),
        status_code=_http_status(attempt.status_code),
        message=_storable(attempt.message, 500),
        duration_ms=min(max(0, int(attempt.duration_ms)), MAX_DURATION_MS),
        input_tokens=_count(attempt.input_tokens),
        output_tokens=_count(attempt.output_tokens),
        images=_count(attempt.images),
        cost_usd=attempt.cost_usd,
    )


def _count(value: int | None) -> int | None:
    # Usage as reported, or nothing: it must fit the positive integer column on every database.
    return value if value is not None and 0 <= value <= MAX_DURATION_MS else None


@transaction.atomic
def record_exhaustion(
    *, kind: str, service: str, venue: Any | None, attempts: Sequence[Attempt], request_id: str = ""
) -> Alert:
    """Write one Alert plus one AlertAttempt per attempt, in the order given (candidate order).

    Atomic with the caller's transaction. Never raises because of Slack: delivery (when
    SLACK_ALERTS_WEBHOOK_URL is set) starts only after commit, as ALERTS_DELIVERY says.
    """
    slack = SlackStatus.PENDING if settings.SLACK_ALERTS_WEBHOOK_URL else SlackStatus.NOT_CONFIGURED
    alert = Alert.objects.create(
        kind=kind,
        service=_storable(service, 100),
        venue=venue,
        request_id=_storable(request_id, 100),
        last_error=_last_error(attempts),
        created_at=timezone.now(),
        slack_status=slack,
    )
    AlertAttempt.objects.bulk_create(_attempt_row(alert, i, a) for i, a in enumerate(attempts))
    if slack == SlackStatus.PENDING:
        alert_id = alert.pk
        transaction.on_commit(lambda: notify.enqueue(alert_id))
    return alert


def acknowledge(*, alert_id: int, user: Any) -> Alert:
    """Acknowledge one alert, recording who and when. Idempotent: a second call (or a racing
    "Acknowledge all") leaves the first acknowledger in place. Raises Alert.DoesNotExist."""
    Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=user
    )
    return Alert.objects.get(pk=alert_id)


def acknowledge_all(*, user: Any, up_to_id: int | None = None) -> int:
    """Acknowledge every open alert — with `up_to_id`, only those up to that id (the newest the
    admin could see), so an alert that lands after the page loaded stays open. Returns how many
    this call acknowledged (not counting rows someone else acknowledged first)."""
    alerts = Alert.objects.unacknowledged()
    if up_to_id is not None:
        alerts = alerts.filter(pk__lte=up_to_id)
    return alerts.update(acknowledged_at=timezone.now(), acknowledged_by=user)
