"""AI Fallbacks never shows credentials inside a base URL (issue 14, item 10): not the provider
default from `<PROVIDER>_BASE_URL`, not a saved row's override, not a revision in History."""

from __future__ import annotations

import pytest

from resilience.chains import display_base_url, without_userinfo
from resilience.models import ChainCandidate, ChainRevision

pytestmark = pytest.mark.django_db

PAGE = "/admin/super/ai-fallbacks/"


@pytest.fixture
def admin_client(client, superadmin):
    client.force_login(superadmin)
    return client


def test_display_base_url_drops_userinfo_query_and_fragment():
    assert (
        display_base_url("https://user:pw-123@proxy.example:8443/v1?token=t#x")
        == "https://proxy.example:8443/v1"
    )
    assert display_base_url("") == ""
    assert (
        without_userinfo("base URL https://u:p@h.example/v1 → default")
        == "base URL https://h.example/v1 → default"
    )


def test_the_env_base_url_shows_without_its_credentials(admin_client, settings):
    # OPENAI_BASE_URL=https://ops:hunter2-secret@proxy.internal.example/v1 in the environment
    settings.AI_PROVIDER_BASE_URLS = {
        **settings.AI_PROVIDER_BASE_URLS,
        "openai": "https://ops:hunter2-secret@proxy.internal.example/v1",
    }
    html = admin_client.get(PAGE + "image/").content.decode()
    assert "hunter2-secret" not in html and "ops:" not in html
    assert "https://proxy.internal.example/v1" in html


def test_a_saved_override_with_credentials_shows_without_them(admin_client):
    ChainCandidate.objects.filter(kind="chat").delete()
    ChainCandidate.objects.create(
        kind="chat",
        priority=1,
        label="Old proxy",
        provider="openai",
        model="gpt-4o",
        base_url="https://bob:row-pass-5@proxy.example/v1",
    )
    html = admin_client.get(PAGE + "chat/").content.decode()
    assert "row-pass-5" not in html
    assert 'value="https://proxy.example/v1"' in html


def test_history_shows_no_credentials(admin_client):
    ChainRevision.objects.create(
        kind="chat",
        candidates=[
            {
                "label": "Old proxy",
                "provider": "openai",
                "model": "gpt-4o",
                "enabled": True,
                "env_key": "",
                "base_url": "https://bob:rev-pass-6@proxy.example/v1",
                "notes": "",
            }
        ],
        summary="Old proxy: base URL default → https://bob:rev-pass-6@proxy.example/v1",
    )
    html = admin_client.get(PAGE + "chat/history/").content.decode()
    assert "rev-pass-6" not in html
    assert "https://proxy.example/v1" in html
