"""The super admin's alerts inbox over the API: list, acknowledge one, acknowledge all.

Writes go through alerts.record (`acknowledge`, `acknowledge_all`); reads are one query for the
page (venue joined, attempts prefetched) plus one count.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router

from alerts.models import Alert
from alerts.record import acknowledge, acknowledge_all
from alerts.schemas import PAGE_SIZE, AcknowledgedOut, AlertFilters, AlertListOut, AlertOut
from bitethemenu.schemas import MAX_ID, error_responses

admin_router = Router(tags=["admin: alerts"])


def alert_out(alert: Alert) -> dict[str, Any]:
    """An Alert as API.md shows it (attempts must be prefetched, venue selected)."""
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "service": alert.service,
        "venue": alert.venue.slug if alert.venue else None,
        "last_error": alert.last_error,
        "created_at": alert.created_at,
        "acknowledged": alert.is_acknowledged,
        "acknowledged_at": alert.acknowledged_at,
        "request_id": alert.request_id,
        "attempts": list(alert.attempts.all()),
    }


def list_alerts(*, acknowledged: bool | None, kind: str | None, page: int) -> dict[str, Any]:
    """One page of alerts, newest first, filtered; with the inbox's unacknowledged count."""
    alerts = Alert.objects.select_related("venue").prefetch_related("attempts").order_by("-created_at", "-id")
    if acknowledged is not None:
        alerts = alerts.filter(acknowledged_at__isnull=not acknowledged)
    if kind:
        alerts = alerts.filter(kind=kind)
    start = (page - 1) * PAGE_SIZE
    rows = list(alerts[start : start + PAGE_SIZE + 1])
    return {
        "items": [alert_out(a) for a in rows[:PAGE_SIZE]],
        "unacknowledged": Alert.objects.unacknowledged().count(),
        "next_page": page + 1 if len(rows) > PAGE_SIZE else None,
    }


def _alert(alert_id: int) -> Alert:
    alerts = Alert.objects.select_related("venue").prefetch_related("attempts")
    alert = alerts.filter(pk=alert_id).first() if 1 <= alert_id <= MAX_ID else None
    if alert is None:
        raise Http404(f"no alert {alert_id}")  # the API answers not_found in the error shape
    return alert


@admin_router.get("/alerts", response={200: AlertListOut, **error_responses()})
def get_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> dict[str, Any]:
    """Alerts newest first (PAGE_SIZE a page), with how many are still unacknowledged."""
    return list_alerts(acknowledged=filters.acknowledged, kind=filters.kind, page=filters.page)


@admin_router.post("/alerts/acknowledge-all", response={200: AcknowledgedOut, **error_responses()})
def post_acknowledge_all(request: HttpRequest) -> dict[str, Any]:
    """Acknowledge every open alert; returns how many this call acknowledged."""
    return {"acknowledged": acknowledge_all(user=request.user)}


@admin_router.post("/alerts/{alert_id}/acknowledge", response={200: AlertOut, **error_responses()})
def post_acknowledge(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    """Acknowledge one alert (idempotent: the first acknowledger stays)."""
    acknowledge(alert_id=_alert(alert_id).pk, user=request.user)
    return alert_out(_alert(alert_id))
