"""The one outbound HTTP seam: every call to an AI provider or to Slack goes through here.

Every call:
- runs under ONE wall-clock budget (`timeout`): resolving, connecting, the TLS handshake, every
  redirect hop and the whole body share it. Socket timeouts alone bound each read, not the call, so a
  server that dribbles one byte every half second could hold a call for ever; here a watchdog shuts
  the call's sockets down when the budget is spent, whatever is blocked on them.
- reads the body in chunks and stops at `max_bytes` (checking Content-Length first), so an answer
  can never fill the process's memory.
- refuses private, loopback, link-local, multicast, reserved and cloud-metadata addresses (SSRF),
  on every hop, before connecting. The name is resolved once, checked, and the connection goes to
  that very address (TLS still verifies the certificate for the host name), so DNS cannot answer
  differently between the check and the connect. Operator-chosen hosts are exempt: the caller's
  `trusted_hosts` (provider base URLs from the environment) and settings.AI_PRIVATE_HOSTS.
- sets a User-Agent, refuses schemes other than https (http only where the caller allows it) on
  every hop too, caps redirects, and drops every credential header when a redirect leaves the host.

Transport failures become fixed, secret-free phrases (as healthchecks' hc/lib/curl.py does). Errors
are built from status codes and those phrases — never from the URL, headers or query string — so a
technical detail shown to anyone can never carry an API key or a webhook URL, and a refused address
reads the same whether or not anything listens there.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import json as jsonlib
import os
import socket
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024
# Enough pooled connections per provider host for every gunicorn thread to hold one at once
# (urllib3's default of 10 makes concurrent callers discard and redial connections).
POOL_SIZE = 32
# Headers that carry a credential. They are dropped when a redirect leaves the host (or downgrades
# https → http); Anthropic's key travels in x-api-key, so all of these are, not just Authorization.
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie"})
BLOCKED = "refused a private or local address"


class OutboundError(Exception):
    """A transport-level failure: no usable HTTP response came back. `short` is safe to show anyone."""

    def __init__(self, kind: str, short: str):
        super().__init__(short)
        # "timeout" | "connection" | "dns" | "tls" | "refused_scheme" | "too_many_redirects"
        # | "too_large" (the answer passed max_bytes) | "blocked" (a private or local address)
        self.kind = kind
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
        return jsonlib.loads(self.content.decode("utf-8"))

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


def host_and_port(url: str) -> str:
    """`host:port` of a URL (default port filled in), the form `trusted_hosts` entries take."""
    parts = urlsplit(url)
    default = 443 if parts.scheme.lower() == "https" else 80
    return _trust_key(parts.hostname or "", parts.port or default)


def _trust_key(host: str, port: int) -> str:
    return f"{host.lower().rstrip('.')}:{port}"


# --- The address guard (SSRF) --------------------------------------------------------------------

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud metadata endpoints hand out the machine's credentials: never reached, even for a listed host
# (AWS/GCP/Azure, AWS ECS task metadata, AWS IMDS over IPv6, Alibaba, Oracle).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
# IPv6 forms that carry an IPv4 address a gateway will reach: judge the IPv4 inside.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: Address) -> Address:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public_address(address: Address) -> bool:
    """True for an address on the public internet. `is_global` already excludes private, loopback,
    link-local, shared (CGNAT), reserved and unspecified ranges; multicast needs its own test."""
    address = _embedded_ipv4(address)
    return address.is_global and not address.is_multicast and address not in METADATA_ADDRESSES


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses one call may connect to. `hosts` are trusted `host` (any port) or `host:port`
    entries; `networks` are trusted IP literals/CIDRs from settings.AI_PRIVATE_HOSTS."""

    hosts: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def for_call(cls, trusted_hosts: Iterable[str]) -> AddressPolicy:
        hosts: set[str] = {entry.strip().lower().rstrip(".") for entry in trusted_hosts if entry.strip()}
        networks = []
        for entry in settings.AI_PRIVATE_HOSTS:
            try:
                networks.append(ipaddress.ip_network(entry.strip().strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, port: int, address: Address) -> bool:
        if _embedded_ipv4(address) in METADATA_ADDRESSES:
            return False
        host = host.strip("[]").lower().rstrip(".")
        if host in self.hosts or _trust_key(host, port) in self.hosts:
            return True
        if any(address in network for network in self.networks):
            return True
        return is_public_address(address)


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (tests replace this to play DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


# getaddrinfo cannot be given a timeout: it runs here so the call's budget can stop waiting for it.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="http-resolve")


def _resolve_within(host: str, port: int, seconds: float) -> list[Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]  # an IP literal needs no lookup
    except ValueError:
        pass
    if seconds <= 0:
        raise OutboundError("timeout", "timed out")
    try:
        addresses = _resolver.submit(resolve, host, port).result(timeout=seconds)
    except FutureTimeout:
        raise OutboundError("timeout", "timed out") from None
    except (OSError, UnicodeError, ValueError):
        raise OutboundError("dns", "could not resolve host") from None
    if not addresses:
        raise OutboundError("dns", "could not resolve host")
    return addresses


# --- One call: its budget and the sockets it uses ------------------------------------------------


class _Call:
    """The state of one `request()`: its deadline, its address policy, and the sockets it uses, which
    the watchdog shuts down when the deadline passes — that ends any read blocked on them at once."""

    def __init__(self, *, timeout: float, policy: AddressPolicy):
        self.deadline = time.monotonic() + timeout
        self.policy = policy
        self.expired = False
        self._lock = threading.Lock()
        self._finished = False
        self._watched: list[socket.socket] = []

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def checked_addresses(self, host: str, port: int) -> list[Address]:
        """The addresses `host` resolves to, if the policy allows every one of them."""
        addresses = _resolve_within(host, port, self.remaining())
        self.check(host, port, addresses)
        return addresses

    def check(self, host: str, port: int, addresses: Iterable[Address]) -> None:
        if not all(self.policy.allows(host, port, address) for address in addresses):
            raise OutboundError("blocked", BLOCKED)

    def watch(self, sock: socket.socket) -> None:
        # A duplicate descriptor of the same socket: shutting it down ends reads on the original too
        # (TLS included), and it stays ours to close even if the connection closes or replaces its own.
        with self._lock:
            if self._finished:
                return
            first = not self._watched
            self._watched.append(socket.socket(fileno=os.dup(sock.fileno())))
        if first:
            _watchdog.add(self)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            for sock in self._watched:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by the peer

    def finish(self) -> None:
        with self._lock:
            self._finished = True
            watched, self._watched = self._watched, []
        for sock in watched:
            sock.close()


class _Watchdog:
    """One thread for every call in the process (not one per call, which would cost a thread start
    each time): it sleeps until the earliest deadline and expires the calls that reach theirs.
    Calls that finished in time stay queued until their deadline, where expiring them does nothing."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, _Call]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._count = itertools.count()

    def add(self, call: _Call) -> None:
        with self._wake:
            heapq.heappush(self._due, (call.deadline, next(self._count), call))
            if self._thread is None or not self._thread.is_alive():  # started on first use
                self._thread = threading.Thread(target=self._run, name="http-watchdog", daemon=True)
                self._thread.start()
            if self._due[0][2] is call:  # the earliest deadline changed: re-plan the sleep
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, call = heapq.heappop(self._due)
            call.expire()


_watchdog = _Watchdog()


def _after_fork_in_child() -> None:
    # A forked worker (gunicorn --preload) inherits these objects but not their threads: start afresh.
    global _resolver, _watchdog
    _resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="http-resolve")
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork_in_child)
_current_call: ContextVar[_Call] = ContextVar("bitethemenu_http_call")


class _GuardedConnectionMixin:
    """urllib3 connections that resolve and check the host themselves, then connect to that checked
    address (the pin); HTTPS still sends SNI and verifies the certificate for the host name."""

    host: str
    port: int
    timeout: Any
    sock: socket.socket | None
    source_address: Any
    socket_options: Any
    _pinned: list[Address]
    _call: _Call | None = None  # the call this connection's socket is watched for

    def _new_conn(self) -> socket.socket:
        call = _current_call.get()
        self._pinned = call.checked_addresses(self.host, self.port)
        sock = self._connect_to(self._pinned, call)
        call.watch(sock)
        self._call = call
        return sock

    def _connect_to(self, addresses: list[Address], call: _Call) -> socket.socket:
        failure: OSError | None = None
        for address in addresses:  # like socket.create_connection: the next address if one refuses
            seconds = call.remaining()
            if isinstance(self.timeout, int | float):
                seconds = min(seconds, self.timeout)
            if seconds <= 0:
                raise ConnectTimeoutError(self, "connect timed out")
            try:
                return create_connection(
                    (str(address), self.port),
                    seconds,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                raise ConnectTimeoutError(self, "connect timed out") from None
            except OSError as exc:
                failure = exc
        connection = cast(HTTPConnection, self)  # the mixin is only ever part of one
        raise NewConnectionError(connection, f"Failed to establish a new connection: {failure}")

    def request(self, *args: Any, **kwargs: Any) -> None:
        call = _current_call.get()
        if self.sock is not None and self._call is not call:
            # A pooled connection, opened by an earlier call: it obeys this call's policy and clock too.
            try:
                call.check(self.host, self.port, self._pinned)
            except OutboundError:
                self.close()  # type: ignore[attr-defined]
                raise
            call.watch(self.sock)
            self._call = call
        super().request(*args, **kwargs)  # type: ignore[misc]


class _GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


_session = requests.Session()
# No proxies, .netrc or CA bundles from the environment: a proxy would resolve names itself (and
# escape the address guard), and .netrc could attach credentials the caller never chose.
_session.trust_env = False
for _scheme in ("https://", "http://"):
    _session.mount(_scheme, _GuardedAdapter(pool_connections=16, pool_maxsize=POOL_SIZE, max_retries=0))


# --- The call ------------------------------------------------------------------------------------


def request(
    method: str,
    url: str,
    *,
    timeout: float,
    max_bytes: int | None = None,
    headers: dict[str, str] | None = None,
    json: Any = None,
    data: Any = None,
    files: Any = None,
    params: dict[str, str] | None = None,
    allow_http: bool = False,
    trusted_hosts: Iterable[str] = (),
) -> Response:
    """Make one HTTP call within `timeout` seconds in all, reading at most `max_bytes` of body
    (default settings.AI_MAX_JSON_BYTES). `trusted_hosts` (`host` or `host:port`) are operator-chosen
    and may be private. Returns any HTTP response (callers classify 4xx/5xx themselves); raises
    OutboundError only when no usable response arrived."""
    call = _Call(timeout=timeout, policy=AddressPolicy.for_call(trusted_hosts))
    token = _current_call.set(call)
    try:
        return _follow_redirects(
            call,
            method,
            url,
            headers={"User-Agent": settings.AI_HTTP_USER_AGENT, **(headers or {})},
            body={"json": json, "data": data, "files": files},
            params=params,
            allow_http=allow_http,
            max_bytes=settings.AI_MAX_JSON_BYTES if max_bytes is None else max_bytes,
        )
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise _transport_error(exc, call) from None
    finally:
        _current_call.reset(token)
        call.finish()


def _follow_redirects(
    call: _Call,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: dict[str, Any],
    params: dict[str, str] | None,
    allow_http: bool,
    max_bytes: int,
) -> Response:
    """Each hop is checked (scheme here, address at connect) and spends what is left of the budget."""
    for _hop in range(MAX_REDIRECTS + 1):
        check_scheme(url, allow_http=allow_http)
        seconds = call.remaining()
        if seconds <= 0:
            raise OutboundError("timeout", "timed out")
        raw = _session.request(
            method,
            url,
            headers=headers,
            params=params,
            stream=True,
            allow_redirects=False,
            timeout=(seconds, seconds),
            **body,
        )
        if call.expired:  # the watchdog cut the headers short: what arrived is not an answer
            raw.close()
            raise OutboundError("timeout", "timed out")
        location = raw.headers.get("location") if raw.status_code in REDIRECT_STATUSES else None
        if not location:
            return _read_body(raw, call, max_bytes)
        raw.close()  # a redirect's own body is never read
        next_url = urljoin(raw.url, location)
        if _session.should_strip_auth(raw.url, next_url):  # type: ignore[no-untyped-call]  # untyped in types-requests
            headers = {k: v for k, v in headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        method, body, headers = _after_redirect(raw.status_code, method, body, headers)
        url, params = next_url, None
    raise OutboundError("too_many_redirects", "too many redirects")


def _after_redirect(
    status: int, method: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """What browsers (and requests) do: 303, and 301/302 after a POST, become a GET without a body;
    307/308 repeat the request as it was."""
    if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
        headers = {k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")}
        return "GET", {}, headers
    return method, body, headers


def _read_body(raw: requests.Response, call: _Call, max_bytes: int) -> Response:
    """The body, chunk by chunk, never past `max_bytes` nor past the deadline."""
    try:
        declared = raw.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise OutboundError("too_large", f"answer over {_size(max_bytes)}")
        chunks: list[bytes] = []
        size = 0
        for chunk in raw.iter_content(chunk_size=CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise OutboundError("too_large", f"answer over {_size(max_bytes)}")
            if call.remaining() <= 0:
                raise OutboundError("timeout", "timed out")
            chunks.append(chunk)
    finally:
        raw.close()  # without reading further: an unread rest closes the connection
    if call.expired:  # a body without a length ends at the watchdog's shutdown: it is cut, not whole
        raise OutboundError("timeout", "timed out")
    return Response(status=raw.status_code, headers=dict(raw.headers), content=b"".join(chunks))


def _size(limit: int) -> str:
    mib = limit / (1024 * 1024)
    if mib >= 1:
        return f"{mib:g} MiB"
    return f"{limit / 1024:g} KiB" if limit >= 1024 else f"{limit} bytes"


def _transport_error(exc: Exception, call: _Call) -> OutboundError:
    """A fixed phrase for a failure; anything after the budget ran out is a timeout, whatever the
    interrupted read reported (the watchdog's shutdown looks like a reset)."""
    if call.expired or call.remaining() <= 0 or isinstance(exc, requests.exceptions.Timeout):
        return OutboundError("timeout", "timed out")
    if isinstance(exc, requests.exceptions.SSLError):
        return OutboundError("tls", "TLS handshake failed")
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return OutboundError("too_many_redirects", "too many redirects")
    if isinstance(exc, requests.exceptions.ConnectionError | OSError):
        text = str(exc).lower()
        if "name or service not known" in text or "nodename nor servname" in text or "resolve" in text:
            return OutboundError("dns", "could not resolve host")
        if "refused" in text:
            return OutboundError("connection", "connection refused")
        if "reset" in text or "aborted" in text:
            return OutboundError("connection", "connection reset")
        return OutboundError("connection", "connection failed")
    return OutboundError("connection", "request failed")
