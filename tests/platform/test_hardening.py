from __future__ import annotations

import pytest

from bitethemenu.reporting import SecretSafeReporterFilter


@pytest.mark.parametrize(
    "url",
    [
        "/admin/credits/ledgerentry/?kind__exact=%00",
        "/admin/bitethemenu/membership/?role__exact=%00",
        "/library/?q=pasta%00",
    ],
)
def test_a_nul_in_a_query_string_is_a_calm_400_not_a_500(client, superadmin, url):
    client.force_login(superadmin)
    response = client.get(url)
    assert response.status_code == 400
    assert b"can't read" in response.content


def test_ordinary_filters_still_work(client, superadmin):
    client.force_login(superadmin)
    assert client.get("/admin/bitethemenu/membership/?role__exact=owner").status_code == 200


def test_error_reports_hide_the_slack_webhook_and_connection_urls(settings):
    settings.SLACK_ALERTS_WEBHOOK_URL = "https://hooks.example/services/T000/B000/not-a-real-secret"
    settings.DATABASE_URL = "postgres://app:hunter2@db/app"
    shown = SecretSafeReporterFilter().get_safe_settings()
    assert "not-a-real-secret" not in str(shown["SLACK_ALERTS_WEBHOOK_URL"])
    assert "hunter2" not in str(shown["DATABASE_URL"])
    assert shown["TIME_ZONE"] == "UTC"  # ordinary settings still shown


def test_django_uses_the_secret_safe_filter():
    from django.views.debug import get_default_exception_reporter_filter

    assert isinstance(get_default_exception_reporter_filter(), SecretSafeReporterFilter)
