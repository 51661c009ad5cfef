"""Super Admin → Provider health: numbers from the aggregates, charts, bounded queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from observe import health_stats
from observe.demo import seed_week
from observe.models import AttemptBucket
from resilience import cascade, health
from resilience.types import AIRequest

PAGE = "/admin/super/health/"


@pytest.fixture
def admin_client(client, superadmin):
    client.force_login(superadmin)
    return client


def test_only_super_admins_see_it(client, staff):
    assert client.get(PAGE).status_code == 302
    client.force_login(staff)
    assert client.get(PAGE).status_code == 302


@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_a_seeded_week_renders_in_a_bounded_number_of_queries(
    admin_client, window, django_assert_max_num_queries
):
    seed_week(days=2, scale=0.05)
    with django_assert_max_num_queries(10):
        response = admin_client.get(PAGE, {"window": window})
    body = response.content.decode()
    assert response.status_code == 200
    for title in ("Image", "Chat / Text", "OCR", "Embedding"):
        assert f">{title}</h2>" in body
    # Charts for every kind with calls (at night the last hour may have no OCR at all).
    assert (
        body.count('class="chart chart-calls"') == (4 if window != "1h" else body.count("<figure>") // 2) >= 1
    )
    assert "KIE Nano Banana 2" in body  # a chain candidate: listed even without calls
    assert (
        window == "1h" or "Venue primary: OpenAI gpt-5" in body
    )  # outside the chain: listed when it had calls
    assert "<script" not in body.split('id="provider-health"')[1]  # charts need no JavaScript


def test_the_numbers_are_the_cascades(admin_client, chain, monkeypatch):
    chain("chat", [("Broken", "simulated", "gone"), ("Answers", "simulated", "ok")])
    for _ in range(3):
        cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    moment = datetime.fromtimestamp(1_796_040_150 + 60, UTC)  # a minute after the recording (conftest)
    reports = {r.kind: r for r in health_stats.health_report("1h", moment=moment)}
    rows = {row.label: row for row in reports["chat"].candidates}
    assert rows["Broken"].totals.calls >= 1 and rows["Broken"].totals.success_rate == 0
    assert rows["Broken"].totals.reasons == {"model_not_found": rows["Broken"].totals.calls}
    assert (rows["Answers"].totals.calls, rows["Answers"].totals.ok, rows["Answers"].totals.fallback) == (
        3,
        3,
        3,
    )
    assert rows["Answers"].priority == 2 and rows["Answers"].breaker.state == "closed"
    assert reports["chat"].by_window["1h"].calls == reports["chat"].totals.calls
    assert sum(point.calls for point in reports["chat"].series) == reports["chat"].totals.calls


def test_breaker_state_is_shown_per_candidate(admin_client, settings):
    settings.BREAKER_FAILURE_THRESHOLD = 1
    health.record_outcome(health.candidate_key("kie", "nano-banana-2", ""), ok=False, reason="server")
    body = admin_client.get(PAGE).content.decode()
    assert 'class="ph-breaker ph-breaker-open"' in body


def test_labels_are_escaped(admin_client):
    AttemptBucket.objects.create(
        bucket_start=datetime.now(UTC).replace(minute=0, second=0, microsecond=0),
        span=3600,
        kind="chat",
        candidate="x" * 32,
        provider="openai",
        model="gpt-4o",
        label="<b>Bistro & Co</b>",
        calls=2,
        ok=1,
        failed=1,
        fail_server=1,
    )
    body = admin_client.get(PAGE, {"window": "24h"}).content.decode()
    assert "&lt;b&gt;Bistro &amp; Co&lt;/b&gt;" in body and "<b>Bistro" not in body


def test_percentiles_interpolate_inside_the_histogram():
    assert health_stats.percentile_ms([0] * 10, 0.5) is None
    assert health_stats.percentile_ms([10, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.5) == 125
    assert health_stats.percentile_ms([0, 0, 4, 0, 0, 0, 0, 0, 0, 0], 0.95) == 975
