"""Structured logs: one JSON line per attempt and per request, with the request id; no secrets."""

from __future__ import annotations

import json
import logging

import pytest
import responses

from observe.logs import formatter
from resilience import cascade
from resilience.types import AIRequest


@pytest.fixture
def json_lines():
    """Every log record rendered by the production (JSON) formatter."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Keep()
    handler.setFormatter(formatter(json=True))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


def _events(lines, name):
    return [json.loads(line) for line in lines if f'"event": "{name}"' in line]


@responses.activate
def test_each_attempt_is_one_json_line(db, chain, monkeypatch, json_lines, venue):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-key-1234567890")
    chain("chat", [("GPT", "openai", "gpt-4o"), ("Answers", "simulated", "ok")])
    responses.post(
        "https://api.openai.com/v1/chat/completions",
        status=401,
        json={
            "error": {
                "message": "Incorrect API key provided: sk-secret-key-1234567890",
                "code": "invalid_api_key",
            }
        },
    )
    cascade.run(
        "chat", AIRequest(prompt="x"), venue=venue, service="social.writeCaption", request_id="req-123456"
    )
    failed, answered = _events(json_lines, "ai_attempt")
    assert failed["request_id"] == "req-123456" and failed["venue"] == venue.pk
    assert (failed["kind"], failed["candidate"], failed["outcome"], failed["reason"]) == (
        "chat",
        "GPT",
        "failed",
        "auth",
    )
    assert answered["outcome"] == "ok" and answered["fallback"] is True and "duration_ms" in answered
    assert not any("sk-secret" in line for line in json_lines)


def test_each_request_is_one_json_line_with_its_id(client, db, json_lines):
    response = client.get("/healthz?token=abc", HTTP_X_REQUEST_ID="client-id-1234")
    assert response.status_code == 200
    (line,) = _events(json_lines, "request")
    assert line["request_id"] == "client-id-1234"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/healthz", 200)
    assert "token" not in json.dumps(line)  # the query string is never logged


def test_a_forged_request_id_is_replaced(client, db, json_lines):
    client.get("/healthz", HTTP_X_REQUEST_ID='x"}\n{"forged": true')
    (line,) = _events(json_lines, "request")
    assert len(line["request_id"]) == 32 and "forged" not in line


def test_plain_text_is_readable(caplog):
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    assert "hello there" in formatter(json=False).format(record)
