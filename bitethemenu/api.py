"""The REST API root: /api/v1/ (contract: docs/API.md). Each app adds its routers here.

One error layer: every non-2xx answer — a FriendlyError, a validation error (including malformed
JSON), a missing or bad key, an unknown path, a wrong method, an oversize body, and any unexpected
exception — is `{"code", "user_message", "technical_detail", "request_id"}`. Every response carries
an `X-Request-ID` header (uuid4 hex) that matches the body's `request_id` on errors.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from alerts import api as alerts_api
from bitethemenu.api_auth import api_key_auth, platform_key_auth, venue_key_auth
from bitethemenu.errors import FriendlyError, InvalidInput
from bitethemenu.ratelimits import RateLimited
from composer import api as composer_api
from credits import api as credits_api
from resilience import api as resilience_api
from resilience.chains import ChainValidationError

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
INVALID_INPUT_MESSAGE = "Some of what you sent isn't valid. Check the fields and try again."
# Shown for a status with no FriendlyError of its own.
GENERIC = {
    401: ("unauthorized", "Add a valid API key: Authorization: Bearer <key>."),
    403: ("forbidden", "This key can't do that."),
    404: ("not_found", "We couldn't find that."),
    405: ("method_not_allowed", "That method isn't allowed here."),
    413: ("payload_too_large", "That upload is too large. Please send one under 10 MB."),
    422: ("invalid_input", INVALID_INPUT_MESSAGE),
    429: ("rate_limited", "Too many requests. Please wait a moment and try again."),
    500: ("internal_error", "Something went wrong on our side. Please try again in a minute."),
}


def request_id_of(request: HttpRequest) -> str:
    """The id of this API request (made on first use), echoed in X-Request-ID and error bodies."""
    rid = getattr(request, "request_id", "")
    if not rid:
        rid = uuid.uuid4().hex
        request.request_id = rid  # type: ignore[attr-defined]
    return rid


def generic_error(status: int, detail: str = "") -> FriendlyError:
    code, message = GENERIC.get(status, GENERIC[500])
    return FriendlyError(code, message, detail, http_status=status)


def _validation_detail(errors: list[dict[str, Any]]) -> str:
    # Location and message only: pydantic's `input` could echo back anything the client sent.
    parts = []
    for error in errors[:10]:
        loc = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{loc}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


class BiteTheMenuAPI(NinjaAPI):
    """NinjaAPI whose URLs also answer unknown paths and wrong methods in the error shape."""

    def error_response(self, request: HttpRequest, error: FriendlyError) -> HttpResponse:
        rid = error.request_id or request_id_of(request)
        body = {**error.as_dict(), "request_id": rid}
        response = self.create_response(request, body, status=error.http_status)
        response[REQUEST_ID_HEADER] = rid
        if isinstance(error, RateLimited):  # API.md: a 429 says when to retry
            response["Retry-After"] = str(error.retry_after)
        return response

    def _get_urls(self) -> list[URLPattern | URLResolver]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = self._wrap(pattern.callback)
        # Anything else under /api/v1/ is a 404 in the error shape, not Django's HTML page.
        urls.append(re_path(r"^.*$", self._wrap(self._unknown_path), name="not-found"))
        return urls

    def _unknown_path(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.error_response(request, generic_error(404, f"no endpoint at {request.path}"))

    def _wrap(self, view: Callable[..., Any]) -> Callable[..., Any]:
        if iscoroutinefunction(view):  # a path with async operations (the paid calls: they await a job)

            @functools.wraps(view)
            async def wrapped_async(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
                request_id_of(request)
                try:
                    response = await view(request, *args, **kwargs)
                except Exception as exc:
                    response = _unexpected(request, exc)
                return self._finish(request, response)

            wrapped_async.csrf_exempt = True  # type: ignore[attr-defined]
            return markcoroutinefunction(wrapped_async)

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            request_id_of(request)
            try:
                response = view(request, *args, **kwargs)
            except Exception as exc:  # outside an operation (ninja's own dispatch): same calm shape
                response = _unexpected(request, exc)
            return self._finish(request, response)

        wrapped.csrf_exempt = True  # type: ignore[attr-defined]  # bearer keys, not cookies
        return wrapped

    def _finish(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code == 405 and REQUEST_ID_HEADER not in response:
            allow = response.get("Allow", "")
            response = self.error_response(request, generic_error(405, f"{request.method} not allowed"))
            if allow:
                response["Allow"] = allow
        response.headers.setdefault(REQUEST_ID_HEADER, request_id_of(request))
        return response


api = BiteTheMenuAPI(
    title="BiteTheMenu API",
    version="1",
    description="Generate images, captions and menu text for a venue; super admins manage fallback "
    "chains, alerts and venues. Every error is {code, user_message, technical_detail, request_id}. "
    "The contract: docs/API.md in the repository.",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=api_key_auth,
)


@api.exception_handler(FriendlyError)
def _friendly(request: HttpRequest, exc: FriendlyError) -> HttpResponse:
    return api.error_response(request, exc)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.error_response(request, generic_error(422, _validation_detail(exc.errors)))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.error_response(request, generic_error(401, "missing, unknown or revoked API key"))
    response["WWW-Authenticate"] = 'Bearer realm="api"'  # RFC 6750 §3: say which scheme to use
    return response


@api.exception_handler(AuthorizationError)
def _unauthorized(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return api.error_response(request, generic_error(403, str(exc)))


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.error_response(request, generic_error(403, "permission denied"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja raises HttpError(400) for a body it cannot parse: API.md calls that invalid_input (422).
    status = 422 if exc.status_code == 400 else exc.status_code
    return api.error_response(request, generic_error(status, str(exc)))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.error_response(request, generic_error(404, str(exc) or "not found"))


@api.exception_handler(ObjectDoesNotExist)
def _does_not_exist(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return api.error_response(request, generic_error(404, "not found"))


@api.exception_handler(ChainValidationError)
def _bad_chain(request: HttpRequest, exc: ChainValidationError) -> HttpResponse:
    problems = [
        f"candidates[{index}].{field}: {message}"
        for index, fields in sorted(exc.errors.items())
        for field, message in fields.items()
    ]
    first = problems[0].split(": ", 1)[1] if problems else INVALID_INPUT_MESSAGE
    error = InvalidInput(f"The chain was not saved. {first}", "; ".join(problems))
    return api.error_response(request, error)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.error_response(request, generic_error(413, "request body exceeds the upload limit"))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with the traceback for us; the client gets the calm shape and the id to quote.
    logger.exception("api: unexpected error (request %s)", request_id_of(request))
    return api.error_response(request, generic_error(500, type(exc).__name__))


# --- Routers (venue paths under /venues, super-admin paths under /admin) ---------------------
api.add_router("/venues", composer_api.router, auth=venue_key_auth)
api.add_router("/venues", credits_api.router, auth=venue_key_auth)
api.add_router("/venues", resilience_api.router, auth=venue_key_auth)
api.add_router("/admin", resilience_api.admin_router, auth=platform_key_auth)
api.add_router("/admin", alerts_api.admin_router, auth=platform_key_auth)
api.add_router("/admin", credits_api.admin_router, auth=platform_key_auth)
