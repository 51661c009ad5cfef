"""Super Admin → Alerts: the inbox page, its actions, and the badge on every admin page.

Installed by `bitethemenu.admin_site.SuperAdminSite` (superusers only). Views parse, call one
function from alerts.record / alerts.notify / alerts.inbox, and render or redirect (POST → redirect
→ GET, with the outcome as an admin message).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import inbox, notify
from alerts.models import Alert
from alerts.record import acknowledge, acknowledge_all

PAGE_SIZE = 25


def super_admin_urls(site: admin.AdminSite) -> list[URLPattern]:
    def wrap(view: Any) -> Any:
        return site.admin_view(view)

    return [
        path("super/alerts/", wrap(partial(alerts_inbox, site=site)), name="super-alerts"),
        path("super/alerts/<int:alert_id>/acknowledge/", wrap(acknowledge_one), name="super-alerts-ack"),
        path(
            "super/alerts/acknowledge-all/",
            wrap(partial(acknowledge_everything, site=site)),
            name="super-alerts-ack-all",
        ),
        path("super/alerts/slack/test/", wrap(test_ping), name="super-alerts-test-ping"),
        path("super/alerts/slack/enable/", wrap(enable_slack), name="super-alerts-enable-slack"),
    ]


def super_admin_context(request: HttpRequest) -> dict[str, Any]:
    """The unacknowledged badge for every admin page: one COUNT query, superusers only."""
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_superuser):
        return {}
    return {"unacknowledged_alerts": inbox.unacknowledged_count()}


def _next(request: HttpRequest, params: Any) -> str:
    """The inbox view the form came from (filters and page kept), never off-site."""
    target = str(params.get("next", ""))
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:super-alerts")
    return target


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(_next(request, request.POST))


@require_GET
def alerts_inbox(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    filters = inbox.InboxFilter.from_params(request.GET)
    page = Paginator(inbox.inbox_alerts(filters), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **site.each_context(request),
        "title": "Alerts",
        "page_obj": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "filters": filters,
        "options": inbox.filter_options(),
        "slack_configured": bool(settings.SLACK_ALERTS_WEBHOOK_URL),
        "slack_state": notify.channel_state(),
        "newest_alert_id": inbox.newest_alert_id(),
    }
    return render(request, "admin/super/alerts.html", context)


@require_POST
def acknowledge_one(request: HttpRequest, alert_id: int) -> HttpResponse:
    try:
        acknowledge(alert_id=alert_id, user=request.user)
    except Alert.DoesNotExist:
        messages.warning(request, "That alert no longer exists.")
    else:
        messages.success(request, "Alert acknowledged.")
    return _back(request)


def _up_to(params: Any) -> int | None:
    value = params.get("up_to", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


@require_http_methods(["GET", "POST"])
def acknowledge_everything(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    """GET: the confirmation step (how many alerts, Yes / No). POST: acknowledge them."""
    if request.method == "GET":
        up_to = _up_to(request.GET)
        context = {
            **site.each_context(request),
            "title": "Acknowledge all alerts?",
            "count": inbox.open_alerts_up_to(up_to),
            "up_to": up_to,
            "next": _next(request, request.GET),
        }
        return render(request, "admin/super/alerts_ack_all_confirm.html", context)
    up_to = _up_to(request.POST)
    count = acknowledge_all(user=request.user, up_to_id=up_to)
    messages.success(request, f"Acknowledged {count} alert{'s' if count != 1 else ''}.")
    if up_to is not None and (newer := inbox.open_alerts_after(up_to)):
        messages.warning(
            request,
            f"{newer} new alert{'s' if newer != 1 else ''} arrived after this page was "
            f"loaded and {'are' if newer != 1 else 'is'} still open.",
        )
    return _back(request)


@require_POST
def test_ping(request: HttpRequest) -> HttpResponse:
    result = notify.send_test_ping()
    (messages.success if result.ok else messages.warning)(request, result.message)
    return _back(request)


@require_POST
def enable_slack(request: HttpRequest) -> HttpResponse:
    if notify.enable_channel():
        messages.success(request, "Slack alerts re-enabled.")
    else:
        messages.info(request, "Slack alerts were already enabled.")
    return _back(request)
