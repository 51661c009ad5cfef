"""AI Fallbacks → "Test candidate": one live call, shown inline, charged to no venue, rate limited."""

from __future__ import annotations

import pytest
import responses

from credits.models import LedgerEntry
from observe import probe
from observe.models import AttemptBucket
from tests.fallbacks.test_admin_views import _post_data

URL = "/admin/super/ai-fallbacks/{kind}/test/"


@pytest.fixture
def admin_client(client, superadmin):
    client.force_login(superadmin)
    return client


def _test(admin_client, kind, spec, **extra):
    data = _post_data([("Other card", "simulated", "ok"), spec], probe_uid="c1", **extra)
    return admin_client.post(URL.format(kind=kind), data, HTTP_HX_REQUEST="true")


def test_a_healthy_candidate_answers_with_its_latency(admin_client, venue):
    response = _test(admin_client, "chat", ("Sim", "simulated", "ok"))
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "✓ Answered in 0 ms" in body and 'id="probe-c1"' in body
    row = AttemptBucket.objects.get(span=300)
    assert (row.probe, row.calls, row.ok, row.credits, row.label) == (True, 1, 1, 0, "Sim")
    assert not LedgerEntry.objects.exists()  # charged to no venue


@pytest.mark.parametrize(
    ("model", "reason", "status"),
    [
        ("sensitive", "safety", ""),
        ("rate-limit", "rate_limit", "(429)"),
        ("gone", "model_not_found", "(404)"),
        ("timeout", "timeout", ""),
        ("server-error", "server", "(500)"),
        ("empty", "malformed_response", "(200)"),
    ],
)
def test_each_failure_shows_its_classified_reason_once(admin_client, model, reason, status):
    body = _test(admin_client, "image", ("Sim", "simulated", model)).content.decode()
    assert f"✗ {reason} {status}".strip() in body
    row = AttemptBucket.objects.get(span=300)
    assert (row.probe, row.calls, row.failed, getattr(row, f"fail_{reason}")) == (True, 1, 1, 1)  # no retry
    assert not LedgerEntry.objects.exists()


@responses.activate(assert_all_requests_are_fired=True)
def test_a_real_provider_goes_through_the_seam_and_its_classifier(admin_client, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdefghijklmnop")
    responses.post(
        "https://api.openai.com/v1/chat/completions",
        status=429,
        json={
            "error": {
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "type": "insufficient_quota",
                "param": None,
                "code": "insufficient_quota",
            }
        },
    )
    body = _test(admin_client, "chat", ("GPT", "openai", "gpt-4o")).content.decode()
    assert "✗ quota (429)" in body and "exceeded your current quota" in body
    assert "sk-test" not in body
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer sk-test-abcdefghijklmnop"
    assert b"Reply with the single word" in sent.body


def test_a_candidate_without_its_key_is_not_called(admin_client):
    body = _test(admin_client, "chat", ("GPT", "openai", "gpt-4o")).content.decode()
    assert "Not tested: OPENAI_API_KEY not set" in body
    assert not AttemptBucket.objects.exists()


def test_tests_are_rate_limited_per_admin(admin_client, settings):
    settings.RATE_LIMIT_PROBES_PER_ADMIN = 2
    for _ in range(2):
        assert "✓ Answered" in _test(admin_client, "chat", ("Sim", "simulated", "ok")).content.decode()
    body = _test(admin_client, "chat", ("Sim", "simulated", "ok")).content.decode()
    assert "That&#x27;s a lot of tests in a minute. Please wait" in body
    assert AttemptBucket.objects.get(span=300).calls == 2  # the third was never called


def test_the_rate_limit_is_the_platforms(admin_client, monkeypatch):
    from bitethemenu.ratelimits import RateLimited

    def refuse(*, user):
        raise RateLimited("Please wait 2 minutes.", "over", retry_after=120)

    monkeypatch.setattr(probe, "RATE_LIMIT", refuse)
    assert (
        "Please wait 2 minutes." in _test(admin_client, "chat", ("Sim", "simulated", "ok")).content.decode()
    )
    assert not AttemptBucket.objects.exists()


def test_venue_staff_cannot_test_candidates(client, staff):
    client.force_login(staff)
    response = client.post(URL.format(kind="chat"), _post_data([("Sim", "simulated", "ok")], probe_uid="c0"))
    assert response.status_code == 302
    assert not AttemptBucket.objects.exists()


def test_each_card_has_a_test_button(admin_client):
    body = admin_client.get("/admin/super/ai-fallbacks/chat/").content.decode()
    assert body.count("Test candidate</button>") == 5
    assert 'hx-post="/admin/super/ai-fallbacks/chat/test/"' in body
