"""Error reports (DEBUG pages, error e-mails) never show a secret setting."""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeReporterFilter(SafeExceptionReporterFilter):
    # Django's default hides names with API, TOKEN, KEY, SECRET, PASS, SIGNATURE. Ours adds the
    # Slack webhook (its URL is the secret) and connection URLs, which may carry passwords.
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|WEBHOOK|DATABASE_URL|REDIS_URL", flags=re.IGNORECASE
    )
