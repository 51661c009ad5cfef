"""Every secret VALUE this server is configured with, for `resilience.providers.base.redact`.

A provider's error message may echo any header or URL it saw — including another provider's key if
a candidate was misconfigured — so redaction cannot know only the current call's key. This lists
them all, read now (keys are read from the environment at call time, so they may change):
the registry providers' keys, every `*_API_KEY` and operator-approved extra key, the Slack webhook,
SECRET_KEY, and the passwords inside the database and Redis connection settings.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

from django.conf import settings

from resilience.env_keys import API_KEY_NAME_RE
from resilience.registry import PROVIDERS

# Shorter values are not secrets worth the false positives (an empty or placeholder value).
MIN_SECRET_LENGTH = 4


def _key_names() -> set[str]:
    names = {spec.env_key for spec in PROVIDERS.values() if spec.env_key}
    names |= {name for name in os.environ if API_KEY_NAME_RE.match(name)}
    return names | set(settings.AI_EXTRA_ENV_KEYS)


def _url_password(url: str) -> str:
    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:
        return ""


def configured_secrets() -> tuple[str, ...]:
    """The values, longest first (so a secret containing another is replaced whole)."""
    values = {os.environ.get(name, "").strip() for name in _key_names()}
    values |= {settings.SECRET_KEY, settings.SLACK_ALERTS_WEBHOOK_URL, _url_password(settings.REDIS_URL)}
    values |= {str(db.get("PASSWORD") or "") for db in settings.DATABASES.values()}
    return tuple(sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True))
