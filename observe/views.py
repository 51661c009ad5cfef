"""GET /metrics: the Prometheus scrape endpoint (observe.metrics), for a scraper only.

Allowed when the request carries `Authorization: Bearer <settings.METRICS_TOKEN>` or comes from an
address in settings.METRICS_ALLOWED_IPS (REMOTE_ADDR, i.e. the proxy's view: list the scraper's
address as the app sees it). With neither setting, the endpoint does not exist (404); otherwise a
request that matches neither gets 403. The token is compared in constant time and never logged.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from observe import metrics


def _token_ok(request: HttpRequest) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    expected = settings.METRICS_TOKEN
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)


def _address_ok(request: HttpRequest) -> bool:
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_IPS


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        raise Http404("metrics are not enabled")
    if not (_token_ok(request) or _address_ok(request)):
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
