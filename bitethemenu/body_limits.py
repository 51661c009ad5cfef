"""Request body limits enforced before a body is read, let alone spooled to disk.

Django reads a body lazily: the first `request.POST` (the CSRF check, on every page) parses it, and
multipart files over FILE_UPLOAD_MAX_MEMORY_SIZE go to a temporary file — `DATA_UPLOAD_MAX_MEMORY_SIZE`
does not count files. So an anonymous 400 MB POST to /login/ used to be written to disk before it was
refused. Two guards, both from `body_limit_for(path)`:

- `BodyLimitMiddleware` (first in MIDDLEWARE): a declared Content-Length over the limit is answered
  413 without reading a byte (the API in its error shape, pages with a calm sentence).
- `CappedUploadHandler` (first in FILE_UPLOAD_HANDLERS): counts what is actually read, for a body
  whose length was not declared up front (chunked, on servers that pass it through), and stops the
  parse with RequestDataTooBig (Django's 400; the API's 413) the moment it passes the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, HttpResponse

TOO_LARGE_PAGE_MESSAGE = "That was more than this page accepts. Please send a smaller file (under 10 MB)."


def body_limit_for(path: str) -> int:
    """The most bytes a request body to `path` may have: the upload limit on the API and on the pages
    that take a photo or a menu (REQUEST_UPLOAD_PATHS), the small one everywhere else."""
    if any(path.startswith(prefix) for prefix in settings.REQUEST_UPLOAD_PATHS):
        return settings.REQUEST_MAX_UPLOAD_BYTES
    return settings.REQUEST_MAX_BODY_BYTES


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # Django reads a malformed length as 0: nothing is read, nothing to refuse


def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    detail = f"request body over the limit of {limit} bytes for this path"
    if request.path.startswith("/api/"):
        from bitethemenu.api import api, generic_error  # the API's error shape; imported late (urls)

        return api.error_response(request, generic_error(413, detail))
    response = HttpResponse(TOO_LARGE_PAGE_MESSAGE, status=413, content_type="text/plain; charset=utf-8")
    response["Connection"] = "close"  # the unread body stays unread
    return response


class BodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit_for(request.path)
        declared = _declared_length(request)
        if declared is not None and declared > limit:
            return too_large_response(request, limit)
        return self.get_response(request)


class CappedUploadHandler(FileUploadHandler):
    """Counts file bytes as the multipart parser reads them and stops at the path's limit. It stores
    nothing itself: the chunks go on to Django's own memory / temporary-file handlers."""

    def __init__(self, request: HttpRequest | None = None):
        super().__init__(request)
        self.limit = body_limit_for(request.path) if request is not None else settings.REQUEST_MAX_BODY_BYTES
        self.received = 0

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: Any = None
    ) -> None:
        if content_length > self.limit:
            raise RequestDataTooBig("request body over the limit for this path")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestDataTooBig("uploaded file over the limit for this path")
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
