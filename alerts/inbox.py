"""Read side of the admin Alerts inbox: filters, the page's queryset, and the badge count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Max, Q, QuerySet

from alerts.models import Alert, Kind, SlackStatus
from bitethemenu.models import Venue

# "Slack failed": the alert never reached Slack, whether Slack refused it or delivery was disabled.
SLACK_NOT_DELIVERED = (SlackStatus.FAILED, SlackStatus.SUPPRESSED)


def _text_param(params: Any, name: str, limit: int) -> str:
    # A NUL never gets here: bitethemenu.middleware refuses it in any page's query string.
    return str(params.get(name, ""))[:limit]


@dataclass(frozen=True)
class InboxFilter:
    unacknowledged: bool = False
    kind: str = ""
    service: str = ""
    venue: str = ""  # a venue slug; "-" means alerts without a venue
    slack_failed: bool = False

    @classmethod
    def from_params(cls, params: Any) -> InboxFilter:
        """Parse query parameters; unknown values are ignored rather than rejected."""
        kind = params.get("kind", "")
        return cls(
            unacknowledged=params.get("status") == "unacknowledged",
            kind=kind if kind in Kind.values else "",
            service=_text_param(params, "service", 100),
            venue=_text_param(params, "venue", 80),
            slack_failed=params.get("slack") == "failed",
        )

    @property
    def active(self) -> bool:
        return any((self.unacknowledged, self.kind, self.service, self.venue, self.slack_failed))


def inbox_alerts(f: InboxFilter) -> QuerySet[Alert]:
    """Alerts newest first, filtered, with everything a row shows fetched up front."""
    alerts = (
        Alert.objects.select_related("venue", "acknowledged_by")
        .prefetch_related("attempts")
        .order_by("-created_at", "-id")
    )
    if f.unacknowledged:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    if f.kind:
        alerts = alerts.filter(kind=f.kind)
    if f.service:
        alerts = alerts.filter(service=f.service)
    if f.venue == "-":
        alerts = alerts.filter(venue__isnull=True)
    elif f.venue:
        alerts = alerts.filter(venue__slug=f.venue)
    if f.slack_failed:
        alerts = alerts.filter(Q(slack_status__in=SLACK_NOT_DELIVERED))
    return alerts


def filter_options() -> dict[str, list[Any]]:
    """Choices for the filter bar: services and venues that have alerts."""
    services = list(Alert.objects.order_by("service").values_list("service", flat=True).distinct())
    venues = list(
        Venue.objects.filter(alerts__isnull=False).distinct().order_by("name").values("slug", "name")
    )
    return {"kinds": list(Kind.choices), "services": services, "venues": venues}


def unacknowledged_count() -> int:
    """The badge: one COUNT query over the open alerts (a partial index covers it)."""
    return Alert.objects.unacknowledged().count()


def newest_alert_id() -> int | None:
    """The id of the newest alert: "Acknowledge all" acknowledges up to it, not what came after."""
    newest: int | None = Alert.objects.aggregate(newest=Max("pk"))["newest"]
    return newest


def open_alerts_after(alert_id: int) -> int:
    """Open alerts newer than `alert_id`: those that arrived after the inbox was rendered."""
    return Alert.objects.unacknowledged().filter(pk__gt=alert_id).count()


def open_alerts_up_to(alert_id: int | None) -> int:
    """Open alerts "Acknowledge all" would acknowledge: those up to `alert_id` (all of them for None)."""
    alerts = Alert.objects.unacknowledged()
    return (alerts.filter(pk__lte=alert_id) if alert_id is not None else alerts).count()
