"""The one outbound HTTP seam: every call to an AI provider or to Slack goes through here.

It always sets a timeout and a User-Agent, refuses schemes other than https (http only where the
caller allows it: self-hosted OpenAI-compatible servers) — on every redirect hop too —, caps redirects,
drops every credential header when a redirect leaves the host, and turns transport
failures into fixed, secret-free phrases (as healthchecks' hc/lib/curl.py does). Errors are built
from status codes and those phrases — never from the URL, headers or query string — so a
technical detail shown to anyone can never carry an API key or a webhook URL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util import Timeout

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
# Enough pooled connections per provider host for every gunicorn thread to hold one at once
# (urllib3's default of 10 makes concurrent callers discard and redial connections).
POOL_SIZE = 32
# Headers that carry a credential. requests drops only Authorization when a redirect leaves the host
# (or downgrades https → http); Anthropic's key travels in x-api-key, so all of these are dropped.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"})


class _Session(requests.Session):
    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)  # type: ignore[no-untyped-call]  # untyped in types-requests
        if self.should_strip_auth(response.request.url, prepared_request.url):  # type: ignore[no-untyped-call]
            for name in [n for n in prepared_request.headers if n.lower() in CREDENTIAL_HEADERS]:
                del prepared_request.headers[name]


_session = _Session()
_session.max_redirects = MAX_REDIRECTS
for _scheme in ("https://", "http://"):
    _session.mount(_scheme, HTTPAdapter(pool_connections=16, pool_maxsize=POOL_SIZE))


class OutboundError(Exception):
    """A transport-level failure: no HTTP response came back. `short` is safe to show anyone."""

    def __init__(self, kind: str, short: str):
        super().__init__(short)
        self.kind = kind  # "timeout" | "connection" | "dns" | "tls" | "refused_scheme" | "too_many_redirects"
        self.short = short


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON, or raises ValueError (callers map that to malformed_response)."""
        import json

        return json.loads(self.content.decode("utf-8"))

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


def check_scheme(url: str, *, allow_http: bool = False) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (allow_http and scheme == "http"):
        return
    raise OutboundError("refused_scheme", f"refused {scheme or 'missing'} scheme")


def _redirect_guard(allow_http: bool) -> Any:
    """A response hook (it runs on every hop, before requests follows it) that refuses a redirect to a
    scheme the first URL could not have used: https → http, or anything else."""

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.is_redirect:
            target = response.headers.get("location", "")
            if urlsplit(target).scheme:  # a relative Location keeps the current (already checked) scheme
                try:
                    check_scheme(target, allow_http=allow_http)
                except OutboundError:
                    response.close()
                    raise
        return response

    return hook


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    files: Any = None,
    params: dict[str, str] | None = None,
    allow_http: bool = False,
) -> Response:
    """Make one HTTP call. Returns any HTTP response (callers classify 4xx/5xx themselves);
    raises OutboundError only when no response arrived."""
    check_scheme(url, allow_http=allow_http)
    all_headers = {"User-Agent": settings.AI_HTTP_USER_AGENT, **(headers or {})}
    try:
        raw = _session.request(
            method,
            url,
            headers=all_headers,
            json=json,
            data=data,
            files=files,
            params=params,
            # `total` caps connecting plus waiting for the answer together, so a slow connect cannot
            # stretch one call past its budget (the cascade's per-attempt timeout and walk deadline).
            timeout=Timeout(connect=min(timeout, 10.0), read=timeout, total=timeout),  # type: ignore[arg-type]  # urllib3 Timeout is accepted at runtime
            allow_redirects=True,
            hooks={"response": [_redirect_guard(allow_http)]},
        )
    except requests.exceptions.Timeout:
        raise OutboundError("timeout", "timed out") from None
    except requests.exceptions.SSLError:
        raise OutboundError("tls", "TLS handshake failed") from None
    except requests.exceptions.TooManyRedirects:
        raise OutboundError("too_many_redirects", "too many redirects") from None
    except requests.exceptions.ConnectionError as exc:
        text = str(exc).lower()
        if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
            raise OutboundError("dns", "could not resolve host") from None
        if "refused" in text:
            raise OutboundError("connection", "connection refused") from None
        if "reset" in text or "aborted" in text:
            raise OutboundError("connection", "connection reset") from None
        raise OutboundError("connection", "connection failed") from None
    except requests.exceptions.RequestException:
        raise OutboundError("connection", "request failed") from None
    return Response(status=raw.status_code, headers=dict(raw.headers), content=raw.content)
