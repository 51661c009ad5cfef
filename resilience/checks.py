"""System checks for the provider settings: a bad value stops `manage.py check` and start-up with a
sentence that names the environment variable, instead of failing every AI call at run time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

from resilience.registry import base_url_variable
from resilience.types import SERVICE_KINDS


def base_url_problem(value: str) -> str:
    """Why `value` cannot be a provider base URL ("" when it can): http(s) with a host, no spaces."""
    if any(character.isspace() for character in value):
        return "contains spaces"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 — raises ValueError on a port that is not a number
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must start with https:// (or http:// for a local proxy)"
    if not parts.hostname:
        return "has no host name"
    return ""


def _base_url_errors() -> Iterable[checks.Error]:
    configured = [(base_url_variable(p), v) for p, v in settings.AI_PROVIDER_BASE_URLS.items()]
    configured.append(("KIE_UPLOAD_BASE_URL", settings.KIE_UPLOAD_BASE_URL))
    for variable, value in configured:
        problem = base_url_problem(value) if value else ""
        if problem:
            yield checks.Error(
                f"{variable} {problem}.",
                hint=f"Set {variable} to the provider's API root, e.g. https://api.example.com/v1, or unset it.",
                id="resilience.E001",
            )


def _positive(variable: str, value: float) -> Iterable[checks.Error]:
    if not value > 0:
        yield checks.Error(f"{variable} must be more than 0 seconds.", id="resilience.E002")


def _timing_errors() -> Iterable[checks.Error]:
    for kind in SERVICE_KINDS:
        attempt, deadline = settings.AI_ATTEMPT_TIMEOUT[kind], settings.AI_CHAIN_DEADLINE[kind]
        yield from _positive(f"AI_{kind.upper()}_ATTEMPT_TIMEOUT", attempt)
        yield from _positive(f"AI_{kind.upper()}_DEADLINE", deadline)
        if 0 < deadline < attempt:
            yield checks.Error(
                f"AI_{kind.upper()}_DEADLINE ({deadline:g} s) is shorter than "
                f"AI_{kind.upper()}_ATTEMPT_TIMEOUT ({attempt:g} s).",
                hint="The deadline bounds the whole walk down the chain: make it at least one attempt.",
                id="resilience.E003",
            )
    yield from _positive("KIE_POLL_INTERVAL", settings.KIE_POLL_INTERVAL)
    yield from _positive("KIE_POLL_DEADLINE", settings.KIE_POLL_DEADLINE)
    if settings.BREAKER_FAILURE_THRESHOLD < 1:
        yield checks.Error("BREAKER_FAILURE_THRESHOLD must be at least 1.", id="resilience.E004")
    if settings.BREAKER_COOLDOWN_SECONDS < 0:
        yield checks.Error("BREAKER_COOLDOWN_SECONDS cannot be negative.", id="resilience.E004")


@checks.register()
def provider_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every provider setting read from the environment, checked once at start-up."""
    return [*_base_url_errors(), *_timing_errors()]
