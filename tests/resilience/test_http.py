"""The outbound seam (bitethemenu.http): timeout and User-Agent on every call, the scheme whitelist on
every redirect hop, credentials never forwarded to another host, secret-free transport errors.
The wall-clock budget and size cap: test_http_budget.py; the address guard: test_http_guard.py."""

from __future__ import annotations

import pytest
import requests
from django.conf import settings

from bitethemenu import http

KEY = "sk-ant-api03-SECRET-0123456789"


def test_every_call_has_a_user_agent_and_a_timeout(mocked, monkeypatch):
    seen = {}
    real_send = requests.Session.send

    def spy(self, request, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", spy)
    mocked.get("https://api.example/v1/x", json={"ok": True})
    response = http.request("GET", "https://api.example/v1/x", timeout=30.0)
    assert response.ok and response.json() == {"ok": True}
    assert mocked.calls[0].request.headers["User-Agent"] == settings.AI_HTTP_USER_AGENT
    connect, read = seen["timeout"]  # socket timeouts: what is left of the call's 30 s budget
    assert 29.0 < connect <= 30.0 and 29.0 < read <= 30.0


def test_a_server_that_never_answers_ends_the_call_at_its_timeout(settings):
    """127.0.0.1 only: a listener that accepts (in its backlog) and never replies."""
    import socket
    import time

    settings.AI_PRIVATE_HOSTS = ["127.0.0.1"]

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            http.request(
                "GET", f"http://127.0.0.1:{silent.getsockname()[1]}/v1", timeout=0.4, allow_http=True
            )
        assert info.value.kind == "timeout" and time.monotonic() - started < 1.5


def test_a_redirect_to_another_host_carries_no_credential(mocked):
    mocked.post(
        "https://api.anthropic.com/v1/messages",
        status=307,
        headers={"Location": "https://elsewhere.example/v1/messages"},
    )
    mocked.post("https://elsewhere.example/v1/messages", json={"ok": True})
    http.request(
        "POST",
        "https://api.anthropic.com/v1/messages",
        timeout=5.0,
        json={"a": 1},
        headers={"x-api-key": KEY, "Authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"},
    )
    first, second = (call.request.headers for call in mocked.calls)
    assert first["x-api-key"] == KEY
    assert "x-api-key" not in second and "Authorization" not in second
    assert second["anthropic-version"] == "2023-06-01"


def test_a_redirect_on_the_same_host_keeps_the_key(mocked):
    mocked.post(
        "https://api.anthropic.com/v1/messages",
        status=308,
        headers={"Location": "https://api.anthropic.com/v2/messages"},
    )
    mocked.post("https://api.anthropic.com/v2/messages", json={"ok": True})
    http.request("POST", "https://api.anthropic.com/v1/messages", timeout=5.0, headers={"x-api-key": KEY})
    assert mocked.calls[1].request.headers["x-api-key"] == KEY


def test_a_redirect_to_plain_http_is_refused_before_it_is_followed(mocked):
    mocked.get("https://api.example/v1/x", status=302, headers={"Location": "http://api.example/v1/x"})
    with pytest.raises(http.OutboundError) as info:
        http.request(
            "GET", "https://api.example/v1/x", timeout=5.0, headers={"Authorization": f"Bearer {KEY}"}
        )
    assert (info.value.kind, info.value.short) == ("refused_scheme", "refused http scheme")
    assert len(mocked.calls) == 1


def test_http_redirects_are_followed_where_http_is_allowed(mocked):
    mocked.get("http://llm.internal/v1/x", status=302, headers={"Location": "http://llm.internal:8000/v1/x"})
    mocked.get("http://llm.internal:8000/v1/x", json={"ok": True})
    assert http.request("GET", "http://llm.internal/v1/x", timeout=5.0, allow_http=True).ok


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://files.example/x"])
def test_a_redirect_to_another_scheme_is_refused(mocked, location):
    mocked.get("http://llm.internal/v1/x", status=302, headers={"Location": location})
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "http://llm.internal/v1/x", timeout=5.0, allow_http=True)
    assert info.value.kind == "refused_scheme"


def test_redirects_are_capped(mocked):
    for hop in range(5):
        mocked.get(
            f"https://api.example/{hop}", status=302, headers={"Location": f"https://api.example/{hop + 1}"}
        )
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "https://api.example/0", timeout=5.0)
    assert info.value.kind == "too_many_redirects"
    mocked.reset()  # the later hops were never requested


@pytest.mark.parametrize(
    "exc,kind,short",
    [
        (
            requests.exceptions.ConnectionError(
                f"HTTPSConnectionPool(host='api.example', port=443): Max retries exceeded with url: /v1?key={KEY} "
                "(Caused by NewConnectionError('Connection refused'))"
            ),
            "connection",
            "connection refused",
        ),
        (requests.exceptions.ReadTimeout(f"Read timed out. (url /v1?key={KEY})"), "timeout", "timed out"),
        (
            requests.exceptions.SSLError(f"certificate verify failed for /v1?key={KEY}"),
            "tls",
            "TLS handshake failed",
        ),
    ],
)
def test_transport_failures_are_fixed_phrases(mocked, exc, kind, short):
    mocked.get("https://api.example/v1", body=exc)
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "https://api.example/v1", timeout=5.0, params={"key": KEY})
    assert (info.value.kind, info.value.short, str(info.value)) == (kind, short, short)
    assert info.value.__cause__ is None and info.value.__suppress_context__
