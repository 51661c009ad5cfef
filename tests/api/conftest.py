"""API fixtures: a bearer key per persona, and a client that sends it.

`api(key)` returns a Django test client bound to /api/v1/ with `Authorization: Bearer <key>`;
`api(None)` sends no key. Every helper returns the response; tests assert the shape.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from bitethemenu.models import ApiKey

PREFIX = "/api/v1"


class ApiClient:
    """A test client for /api/v1/ (relative paths), with an optional bearer key."""

    def __init__(self, raw_key: str | None):
        self.client = Client(enforce_csrf_checks=True)
        self.headers = {"Authorization": f"Bearer {raw_key}"} if raw_key else {}

    def _call(self, method: str, path: str, body=None, *, raw: bytes | str | None = None, headers=None, **kw):
        send = getattr(self.client, method)
        headers = {**self.headers, **(headers or {})}
        if raw is not None:
            return send(PREFIX + path, data=raw, content_type="application/json", headers=headers, **kw)
        if body is None:
            return send(PREFIX + path, headers=headers, **kw)
        return send(
            PREFIX + path, data=json.dumps(body), content_type="application/json", headers=headers, **kw
        )

    def get(self, path: str, *, headers=None, **kw):
        return self.client.get(PREFIX + path, headers={**self.headers, **(headers or {})}, **kw)

    def post(self, path: str, body=None, **kw):
        return self._call("post", path, body, **kw)

    def put(self, path: str, body=None, **kw):
        return self._call("put", path, body, **kw)

    def delete(self, path: str, **kw):
        return self._call("delete", path, **kw)


def assert_error(response, status: int, code: str) -> dict:
    """The response is the one error shape with this status and code; returns the body."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert set(body) == {"code", "user_message", "technical_detail", "request_id"}, body
    assert body["code"] == code, body
    assert len(body["request_id"]) >= 16
    assert response["X-Request-ID"] == body["request_id"]
    return body


@pytest.fixture
def mint():
    """mint(user, venue=None) → the raw key."""

    def _mint(user, venue=None) -> str:
        return ApiKey.mint(owner=user, venue=venue)[1]

    return _mint


@pytest.fixture
def api():
    return ApiClient


@pytest.fixture
def owner_api(owner, venue, mint) -> ApiClient:
    return ApiClient(mint(owner, venue))


@pytest.fixture
def staff_api(staff, venue, mint) -> ApiClient:
    return ApiClient(mint(staff, venue))


@pytest.fixture
def outsider_api(outsider, other_venue, mint) -> ApiClient:
    return ApiClient(mint(outsider, other_venue))


@pytest.fixture
def admin_api(superadmin, mint) -> ApiClient:
    return ApiClient(mint(superadmin))


def use_chain(kind: str, *models: str, provider: str = "simulated") -> None:
    """Replace `kind`'s chain with simulated candidates (offline), in this order."""
    from resilience.models import ChainCandidate

    ChainCandidate.objects.filter(kind=kind).delete()
    for priority, model in enumerate(models, start=1):
        ChainCandidate.objects.create(
            kind=kind, priority=priority, label=f"Sim {model}", provider=provider, model=model
        )


@pytest.fixture
def simulated_chains(db):
    """Every chain is one working simulated candidate: no test leaves the machine."""
    for kind in ("image", "chat", "ocr", "embedding"):
        use_chain(kind, "ok")


@pytest.fixture
def funded(venue, other_venue):
    """chez-a has 100 credits, bar-b 50."""
    from credits.gate import grant

    grant(venue=venue, amount=100, note="test")
    grant(venue=other_venue, amount=50, note="test")
    return venue


def png_bytes(size: tuple[int, int] = (8, 8), fmt: str = "PNG") -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()
