"""Login protection (django-axes): who a login attempt comes from, and how it is written to the log.

Axes counts failed logins per username and per client address (settings "Logins"), locks either out
for a cool-off and logs every failure; super admins unlock in Django admin (Axes → Access attempts:
delete the rows). These two callables are the parts Axes leaves to the project.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


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
