"""Super Admin → Provider health (/admin/super/health/) and the AI Fallbacks "Test candidate" button.

Installed by `bitethemenu.admin_site.SuperAdminSite` (superusers only). Views parse, call one
function (observe.health_stats / observe.probe) and render.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET, require_POST

from bitethemenu.ratelimits import RateLimited
from observe import charts, health_stats, probe
from observe.health_stats import WINDOWS
from resilience.admin_views import parse_cards
from resilience.types import SERVICE_KINDS

LEGEND = (
    ("bar-ok", "answered first"),
    ("bar-fallback", "answered as fallback"),
    ("bar-failed", "failed"),
)


def super_admin_urls(site: admin.AdminSite) -> list[URLPattern]:
    return [
        path("super/health/", site.admin_view(partial(health_page, site=site)), name="super-health"),
        path(
            "super/ai-fallbacks/<str:kind>/test/",
            site.admin_view(test_candidate),
            name="super-ai-fallbacks-test",
        ),
    ]


def _charted(report: health_stats.KindReport, hourly: bool, window_label: str) -> dict[str, Any]:
    label = f"{report.label}, {window_label.lower()}"
    candidates = [
        {
            "row": row,
            "spark": charts.sparkline(row.series, label=f"{row.label}: success rate over time"),
            "reasons": charts.reasons_bar(row.totals, label=f"{row.label}: failures by reason"),
        }
        for row in report.candidates
    ]
    return {
        "report": report,
        "candidates": candidates,
        "calls_chart": charts.calls_chart(
            report.series, report.points, hourly=hourly, label=f"{label}: calls answered, fallback, failed"
        ),
        "latency_chart": charts.latency_chart(
            report.series, report.points, hourly=hourly, label=f"{label}: p50 and p95 latency of answers"
        ),
    }


@require_GET
def health_page(request: HttpRequest, *, site: admin.AdminSite) -> HttpResponse:
    window_key = request.GET.get("window", health_stats.DEFAULT_WINDOW)
    if window_key not in WINDOWS:
        window_key = health_stats.DEFAULT_WINDOW
    window = WINDOWS[window_key]
    hourly = window.step.total_seconds() >= 3600
    reports = health_stats.health_report(window_key)
    context = {
        **site.each_context(request),
        "title": "Provider health",
        "retention_days": settings.OBSERVE_RETENTION_DAYS,
        "window": window,
        "windows": WINDOWS.values(),
        "kinds": [_charted(report, hourly, window.label) for report in reports],
        "legend": charts.legend(LEGEND),
        "latency_legend": charts.legend((("line-p50-key", "p50"), ("line-p95-key", "p95"))),
    }
    return render(request, "admin/super/health.html", context)


@require_POST
def test_candidate(request: HttpRequest, kind: str) -> HttpResponse:
    """htmx: test the card `probe_uid` of the posted AI Fallbacks form (its current, maybe unsaved,
    values) with one live call; answers the result fragment that replaces the card's result line."""
    if kind not in SERVICE_KINDS:
        raise Http404("unknown service kind")
    parsed = parse_cards(request.POST)
    uid = request.POST.get("probe_uid", "")
    if parsed is None or uid not in parsed[0]:
        result = probe.ProbeResult("skipped", message="This card could not be read; reload the page.")
    else:
        spec = parsed[1][parsed[0].index(uid)]
        try:
            result = probe.probe_candidate(kind=kind, spec=spec, user=request.user)
        except RateLimited as limited:
            result = probe.ProbeResult("limited", message=limited.user_message)
    return render(request, "admin/super/_probe_result.html", {"result": result, "uid": uid})
