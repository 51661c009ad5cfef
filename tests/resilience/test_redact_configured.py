"""Redaction knows every secret this server is configured with, not only the current call's key
(issue 14, item 13): another provider's key, the Slack webhook, SECRET_KEY, the database password."""

from __future__ import annotations

import pytest

from resilience.providers.base import redact


def test_another_providers_key_in_an_error_is_redacted(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "anthropic-value-9f8e7d")
    message = "upstream said: bad key anthropic-value-9f8e7d for this route"
    assert "anthropic-value-9f8e7d" not in redact(message, secrets=("the-openai-key",))


def test_an_extra_approved_key_is_redacted(monkeypatch, settings):
    settings.AI_EXTRA_ENV_KEYS = ["OLLAMA_TOKEN"]
    monkeypatch.setenv("OLLAMA_TOKEN", "tok-ollama-42")
    assert "tok-ollama-42" not in redact("auth failed for tok-ollama-42")


def test_the_slack_webhook_secret_key_and_passwords_are_redacted(settings, monkeypatch):
    from django.conf import settings as live_settings

    settings.SLACK_ALERTS_WEBHOOK_URL = "hooks.slack.test/services/T000/B000/XyZsecret"
    settings.SECRET_KEY = "django-insecure-abc"
    monkeypatch.setitem(live_settings.DATABASES["default"], "PASSWORD", "pg-pass-77")
    settings.REDIS_URL = "redis://:redis-pass-88@cache:6379/0"
    text = "echo: hooks.slack.test/services/T000/B000/XyZsecret django-insecure-abc pg-pass-77 redis-pass-88"
    redacted = redact(text)
    for secret in ("XyZsecret", "django-insecure-abc", "pg-pass-77", "redis-pass-88"):
        assert secret not in redacted
    assert redacted.startswith("echo: [redacted]")


@pytest.mark.parametrize("value", ["", "abc"])
def test_empty_or_tiny_values_do_not_eat_the_message(monkeypatch, value):
    monkeypatch.setenv("MISTRAL_API_KEY", value)
    assert redact("rate limited, try again") == "rate limited, try again"
