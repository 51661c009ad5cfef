"""Which environment variables a chain candidate may name as its API key.

A candidate's env key NAME is stored; at call time its VALUE is sent as the bearer token to the
candidate's base URL, which a super admin (or a platform API key) chooses. So the name must be one
the operator meant as a provider key: each registry provider's own key name, any name shaped like
`*_API_KEY`, or one the operator lists in settings.AI_EXTRA_ENV_KEYS — and never the name of one of
Django's settings (SECRET_KEY, DATABASE_URL, REDIS_URL, SLACK_ALERTS_WEBHOOK_URL, …) or of its
`_FILE` twin, even if listed. The admin page, the API and the cascade all ask `env_key_allowed`.

No model imports here: `resilience.models` asks too (ChainCandidate.is_ready).
"""

from __future__ import annotations

import re

from django.conf import settings

from resilience.registry import PROVIDERS

API_KEY_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*_API_KEY$")
# Environment variables that hold platform secrets but are not (all) mirrored as settings.
PLATFORM_SECRET_NAMES = frozenset(
    {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SLACK_ALERTS_WEBHOOK_URL", "DEMO_PASSWORD"}
)
NOT_ALLOWED_MESSAGE = (
    "Use the provider's key name or one ending in _API_KEY (like OPENAI_API_KEY); other names must "
    "be listed by the operator in AI_EXTRA_ENV_KEYS. Platform settings such as SECRET_KEY never are."
)


def _is_platform_setting(name: str) -> bool:
    stem = name.removesuffix("_FILE")  # SECRET_KEY_FILE names the file that holds SECRET_KEY
    return stem in PLATFORM_SECRET_NAMES or hasattr(settings, stem)


def env_key_allowed(name: str) -> bool:
    """True when a candidate may read the environment variable `name` as its API key."""
    if not name or _is_platform_setting(name):
        return False
    if name in {spec.env_key for spec in PROVIDERS.values() if spec.env_key}:
        return True
    return bool(API_KEY_NAME_RE.match(name)) or name in settings.AI_EXTRA_ENV_KEYS
