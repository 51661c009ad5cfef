"""Login protection: who a login attempt comes from, how it is logged, and the per-address lockout.

Axes counts failed logins per username, locks it out for a cool-off and logs every failure; super
admins unlock in Django admin (Axes → Access attempts: delete the rows). `client_ip` and
`client_str` are the parts Axes leaves to the project.

Failures per client address are counted here, with a higher limit (settings "Logins"): staff of one
restaurant share an address, so five typos by one of them must not lock the whole team out, while an
address trying many usernames still is. Counted by `limits` where the rate limits are (Redis when
set, so every app server agrees); if that storage is down, logins are not held up by it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from limits import RateLimitItemPerMinute

from bitethemenu import ratelimits

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's address. Behind TRUSTED_PROXY_COUNT proxies that each append to
    X-Forwarded-For, it is the entry the outermost trusted proxy appended (entries left of it are
    whatever the client sent, so never trusted). With no proxies, the socket's peer address."""
    hops: int = settings.TRUSTED_PROXY_COUNT
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def client_str(username: str, ip_address: str, user_agent: str, path_info: str, request: HttpRequest) -> str:
    """How a login failure or lockout reads in the log: every value quoted and escaped (repr), so a
    username with a line break cannot forge a log line. Passwords are never part of it."""
    path = path_info[0] if isinstance(path_info, tuple | list) else path_info
    return f"username={str(username or '')[:150]!r} ip={ip_address!r} path={str(path or '')[:200]!r}"


def _address_item() -> RateLimitItemPerMinute:
    """LOGIN_ADDRESS_FAILURE_LIMIT failures in a moving window of LOGIN_LOCKOUT_MINUTES."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return RateLimitItemPerMinute(settings.LOGIN_ADDRESS_FAILURE_LIMIT, minutes)


def _guarding() -> bool:
    return bool(settings.AXES_ENABLED and settings.LOGIN_ADDRESS_FAILURE_LIMIT > 0)


@receiver(user_login_failed)
def count_address_failure(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """One more failed login from this request's address (whatever username it tried)."""
    if request is None or not _guarding():
        return
    try:
        ratelimits.limiter().hit(_address_item(), "btm", "login-address", client_ip(request))
    except Exception:  # noqa: BLE001 — a storage outage must not turn a failed login into a 500
        logger.warning("login address counter unavailable; this failure is not counted")


def address_locked_out(request: HttpRequest) -> bool:
    """True while this address has LOGIN_ADDRESS_FAILURE_LIMIT failures in the window."""
    if not _guarding():
        return False
    try:
        return not ratelimits.limiter().test(_address_item(), "btm", "login-address", client_ip(request))
    except Exception:  # noqa: BLE001 — see count_address_failure
        return False


class AddressLockoutMiddleware:
    """Answers a log-in POST (the site's or the admin's) from a locked-out address with the same calm
    429 page as Axes, before a password is checked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path in _login_paths() and address_locked_out(request):
            context = {"cooloff_timedelta": settings.AXES_COOLOFF_TIME}
            return render(request, "registration/locked_out.html", context, status=429)
        return self.get_response(request)


def _login_paths() -> set[str]:
    return {reverse(settings.LOGIN_URL), reverse("admin:login")}
