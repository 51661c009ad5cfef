"""Redaction, Retry-After parsing and the cascade's tolerance of a crashing adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from resilience import cascade
from resilience.providers.base import parse_retry_after, redact
from resilience.providers.simulated import SimulatedAdapter
from resilience.types import AIRequest


@pytest.mark.parametrize(
    "text,leak",
    [
        ("Incorrect API key provided: sk-proj-abcd1234efgh5678.", "sk-proj-abcd1234"),
        ("Authorization: Bearer abc.def.ghi failed", "abc.def.ghi"),
        ("see https://hooks.slack.com/services/T000/B000/XXXX", "hooks.slack.com"),
        ("GET /v1/x?api_key=hunter2hunter2 failed", "hunter2"),
        ("opaque 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 token", "9f86d081884c7d65"),
    ],
)
def test_redact_removes_secret_shaped_text(text, leak):
    assert leak not in redact(text)


def test_redact_removes_a_given_secret_and_caps_length():
    assert "my-own-secret" not in redact("bad key my-own-secret here", secrets=("my-own-secret",))
    assert len(redact("word " * 200)) <= 200


def test_redact_keeps_ordinary_error_text():
    assert redact("The model `dall-e-3` does not exist or you do not have access to it.") == (
        "The model `dall-e-3` does not exist or you do not have access to it."
    )


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("20") == 20.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= parse_retry_after(later) <= 30


def test_a_crashing_adapter_is_a_failed_attempt_not_a_crash(chain, monkeypatch):
    calls = []

    def crash(self, kind, request, **kwargs):
        calls.append(kwargs["model"])
        if kwargs["model"] == "ok":
            raise KeyError("bug")
        return SimulatedAdapter.__dict__["_real_call"](self, kind, request, **kwargs)

    monkeypatch.setattr(SimulatedAdapter, "_real_call", SimulatedAdapter.call, raising=False)
    monkeypatch.setattr(SimulatedAdapter, "call", crash)
    chain("chat", [("Buggy", "simulated", "ok"), ("Fine", "simulated", "other-model")])
    result = cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    assert [(a.label, a.outcome, a.reason) for a in result.attempts] == [
        ("Buggy", "failed", "malformed_response"),
        ("Fine", "ok", ""),
    ]


def test_a_redacted_provider_error_keeps_no_raw_text_anywhere():
    import traceback

    from resilience.errors import Reason
    from resilience.providers.base import Adapter, ProviderError

    error = Adapter().fail(
        ProviderError(Reason.AUTH, "Invalid key sk-live-abcdef123456 for you", 401),
        api_key="sk-live-abcdef123456",
    )
    shown = [error.short, str(error), repr(error), *traceback.format_exception_only(error)]
    assert all("abcdef123456" not in text for text in shown), shown
