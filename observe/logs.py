"""Structured logs with structlog: one JSON object per line in production, readable text in DEBUG.

Every record goes through structlog's ProcessorFormatter, so Django's and our stdlib `logging` lines
come out in the same shape as structlog's own events. The request middleware binds a request id
(also `request.request_id`, which the API echoes as X-Request-ID) into the context, so every line
logged while serving a request carries it, and logs one `request` line when the response is ready.

Secrets: lines carry ids, labels, reasons and durations only. The request line logs the path without
its query string (tokens travel in query strings), and never headers or bodies.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

request_log = structlog.get_logger("observe.request")

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

structlog.configure(
    # filter_by_level first: a line below LOG_LEVEL costs no rendering (the cascade logs every attempt).
    processors=[
        structlog.stdlib.filter_by_level,
        *_SHARED,
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def formatter(json: bool = True) -> logging.Formatter:
    """The LOGGING formatter (settings: `"()": "observe.logs.formatter"`): JSON lines or plain text."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    processors: list[Any] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json:
        processors.append(structlog.processors.format_exc_info)
    processors.append(renderer)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()], processors=processors
    )


# A caller's X-Request-ID is reused only when it looks like an id, so a log line cannot be forged.
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _request_id(request: HttpRequest) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _SAFE_ID.match(given) else uuid.uuid4().hex


def _venue_slug(request: HttpRequest) -> str | None:
    # Only if something already resolved the lazy venue: logging must not cost a query.
    venue = getattr(request, "venue", None)
    wrapped = getattr(venue, "_wrapped", None)
    if wrapped is empty or wrapped is None:
        return None
    return getattr(wrapped, "slug", None)


class RequestLogMiddleware:
    """Binds `request_id` for every line logged during the request; logs one `request` line at the end
    (method, path without query, status, duration, user id, venue slug when known)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = getattr(request, "request_id", "") or _request_id(request)
        request.request_id = rid  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            request_log.info(
                "request",
                method=request.method,
                path=request.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user=getattr(user, "pk", None),
                venue=_venue_slug(request),
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()
