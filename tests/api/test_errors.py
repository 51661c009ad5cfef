"""The one error layer: unknown paths, wrong methods, crashes, docs; never a secret, never a 500."""

from __future__ import annotations

import logging

import pytest

from tests.api.conftest import ApiClient, assert_error


def test_an_unknown_api_path_is_not_found_in_the_error_shape(owner_api):
    assert_error(owner_api.get("/nope"), 404, "not_found")
    assert_error(ApiClient(None).get("/venues/chez-a/nothing/here"), 404, "not_found")


def test_a_wrong_method_is_405_in_the_error_shape(owner_api, venue):
    response = owner_api.delete("/venues/chez-a/credits")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_every_response_carries_a_request_id(owner_api, venue):
    response = owner_api.get("/venues/chez-a/credits")
    assert response.status_code == 200
    assert len(response["X-Request-ID"]) == 32


def test_an_unexpected_exception_is_a_logged_500_in_the_error_shape(owner_api, venue, monkeypatch, caplog):
    import credits.api

    def explode(*args, **kwargs):
        raise RuntimeError("token=sk-secret-123")

    monkeypatch.setattr(credits.api, "balance_of", explode)
    with caplog.at_level(logging.ERROR, logger="bitethemenu.api"):
        response = owner_api.get("/venues/chez-a/credits")
    body = assert_error(response, 500, "internal_error")
    assert "sk-secret" not in response.content.decode()
    assert body["request_id"] in caplog.text


def test_the_authorization_header_is_never_echoed(client, venue):
    response = client.get(
        "/api/v1/venues/chez-a/credits", headers={"Authorization": "Bearer btm_secret_value"}
    )
    body = assert_error(response, 401, "unauthorized")
    assert "btm_secret_value" not in response.content.decode()
    assert body["user_message"]


def test_docs_and_schema_are_public(client):
    assert client.get("/api/v1/docs").status_code == 200
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["version"] == "1"


def test_the_docs_page_works_offline(client):
    # Swagger UI comes from our own static files (ninja's bundle), never from a CDN.
    import re

    from django.contrib.staticfiles import finders

    html = client.get("/api/v1/docs").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"/api/v1/openapi.json"' in html


def test_the_schema_declares_the_error_responses(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    images = paths["/api/v1/venues/{slug}/images"]["post"]["responses"]
    assert {"201", "401", "402", "403", "404", "413", "422", "503"} <= set(images)
    assert set(paths["/api/v1/admin/venues"]["post"]["responses"]) >= {"201", "401", "403", "409", "422"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"401", "403", "404", "422"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize(
    "path",
    [
        "/venues/chez-a/images",
        "/venues/chez-a/text",
        "/venues/chez-a/ocr",
        "/venues/chez-a/embeddings",
        "/venues/chez-a/images/1/edit",
        "/admin/venues",
        "/admin/venues/chez-a/credits",
    ],
)
def test_empty_and_malformed_bodies_never_500(owner_api, admin_api, path, venue):
    client = admin_api if path.startswith("/admin") else owner_api
    for raw in ("", "{", "[]", '{"a": 1}'):
        response = client.post(path, raw=raw)
        assert response.status_code in (404, 422), (path, raw, response.content)


def test_a_crash_outside_an_operation_is_a_500_in_the_error_shape(owner_api, venue, monkeypatch):
    from ninja.operation import PathView

    def explode(self, request):
        raise RuntimeError("dispatch broke")

    monkeypatch.setattr(PathView, "_find_operation", explode)
    assert_error(owner_api.get("/venues/chez-a/credits"), 500, "internal_error")
