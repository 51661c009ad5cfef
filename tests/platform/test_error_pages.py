"""With DEBUG off, a missing page and a crash both get calm pages (amber, never a raw error)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import path

from bitethemenu import urls as project_urls


def _boom(request):
    raise RuntimeError("kaboom: internal detail")


urlpatterns = [path("boom/", _boom), *project_urls.urlpatterns]


def test_a_missing_page_is_calm(client, staff):
    client.force_login(staff)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"We couldn't find that page" in response.content


@pytest.mark.urls("tests.platform.test_error_pages")
def test_a_crash_shows_a_calm_page_without_the_traceback(db):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content
    assert b"kaboom" not in response.content
