"""Alert in the normal Django admin: a read-only log with the filters operators ask for.

The inbox at /admin/super/alerts/ is the everyday page; this changelist is for digging (search by
request id, filter by Slack state). Nothing is editable; acknowledging goes through alerts.record.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from alerts.inbox import SLACK_NOT_DELIVERED
from alerts.models import Alert, AlertAttempt, SlackChannelState
from alerts.record import acknowledge
from bitethemenu.admin_site import ReadOnlyAdminMixin


class UnacknowledgedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Unacknowledged"), ("no", "Acknowledged")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        if self.value() in ("yes", "no"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "yes")
        return queryset


class SlackFailedFilter(admin.SimpleListFilter):
    title = "Slack"
    parameter_name = "slack"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("failed", "Slack failed"), ("sent", "Sent"), ("digested", "In digest")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        if self.value() == "failed":
            return queryset.filter(slack_status__in=SLACK_NOT_DELIVERED)
        if self.value() in ("sent", "digested"):
            return queryset.filter(slack_status=self.value())
        return queryset


class RecentFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "recent"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("24h", "Last 24 hours"), ("7d", "Last 7 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Alert]) -> QuerySet[Alert]:
        days = {"24h": 1, "7d": 7}.get(self.value() or "")
        return queryset.filter(created_at__gte=timezone.now() - timedelta(days=days)) if days else queryset


class AlertAttemptInline(ReadOnlyAdminMixin, admin.TabularInline[AlertAttempt, Alert]):
    model = AlertAttempt
    fields = (
        "position",
        "label",
        "provider",
        "model",
        "outcome",
        "reason",
        "status_code",
        "message",
        "duration_ms",
        "cost_usd",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Alert]):
    list_display = ("open_dot", "kind", "service", "venue", "short_error", "created_at", "slack_status")
    list_display_links = ("service",)
    list_filter = (UnacknowledgedFilter, "kind", SlackFailedFilter, RecentFilter, "service", "venue")
    list_select_related = ("venue",)
    search_fields = ("service", "request_id", "last_error")
    readonly_fields = (
        "kind",
        "service",
        "venue",
        "request_id",
        "last_error",
        "created_at",
        "acknowledged_at",
        "acknowledged_by",
        "slack_status",
        "slack_error",
        "slack_sent_at",
    )
    inlines = (AlertAttemptInline,)
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ("acknowledge_selected",)

    @admin.display(description="", ordering="acknowledged_at")
    def open_dot(self, alert: Alert) -> str:
        if alert.is_acknowledged:
            return ""
        return format_html('<span title="{}" style="color:#f59e0b">●</span>', "Unacknowledged")

    @admin.display(description="Last error", ordering="last_error")
    def short_error(self, alert: Alert) -> str:
        return format_html(
            '<span title="{}">{}</span>', alert.last_error, Truncator(alert.last_error).chars(100)
        )

    def has_acknowledge_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    @admin.action(description="Acknowledge selected alerts", permissions=["acknowledge"])
    def acknowledge_selected(self, request: HttpRequest, queryset: QuerySet[Alert]) -> None:
        open_ids = list(queryset.filter(acknowledged_at__isnull=True).values_list("pk", flat=True))
        for alert_id in open_ids:
            acknowledge(alert_id=alert_id, user=request.user)
        self.message_user(request, f"Acknowledged {len(open_ids)} alert(s)")


@admin.register(SlackChannelState)
class SlackChannelStateAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[SlackChannelState]):
    list_display = ("__str__", "disabled_at", "updated_at")
