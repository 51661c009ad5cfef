"""GET /metrics: Prometheus text for a scraper with the token (or from an allowed address), nobody else."""

from __future__ import annotations

import re

import pytest

from credits import gate
from resilience import cascade
from resilience.types import AIRequest

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


def _scrape(client, token=TOKEN, **extra):
    return client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def test_metrics_do_not_exist_until_configured(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("auth", ["", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_wrong_or_missing_token_is_forbidden(client, db, metrics_on, auth):
    response = client.get("/metrics", HTTP_AUTHORIZATION=auth) if auth else client.get("/metrics")
    assert response.status_code == 403
    assert b"btm_" not in response.content


def test_an_allowed_address_needs_no_token(client, db, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.7"]
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.8").status_code == 403


def test_attempts_are_counted_by_kind_provider_model_outcome_and_reason(client, db, metrics_on, chain):
    chain("chat", [("Broken", "simulated", "gone"), ("Answers", "simulated", "ok")])
    cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    text = _scrape(client).content.decode()
    assert re.search(
        r'btm_ai_attempts_total\{kind="chat",model="gone",outcome="failed",provider="simulated",'
        r'reason="model_not_found",traffic="venue"\} [1-9]',
        text,
    )
    assert re.search(
        r'btm_ai_attempts_total\{kind="chat",model="ok",outcome="ok",provider="simulated",reason="",traffic="venue"\}',
        text,
    )
    assert (
        'btm_ai_attempt_duration_seconds_bucket{kind="chat",le="0.25",model="ok",outcome="ok",provider="simulated"}'
        in text
    )
    assert re.search(
        r'btm_ai_fallback_answers_total\{kind="chat",model="ok",provider="simulated"\} [1-9]', text
    )


def test_breaker_state_and_credits_come_from_shared_state(client, db, metrics_on, venue):
    gate.grant(venue=venue, amount=10, note="start")
    with pytest.raises(RuntimeError), gate.held(venue=venue, kind="image", request_id="r1"):
        raise RuntimeError("the chain failed")
    gate.charge(venue=venue, kind="image", request_id="r2")
    text = _scrape(client).content.decode()
    assert "btm_credits_charged_total 8.0" in text
    assert "btm_credits_refunded_total 4.0" in text
    # Every enabled default chain candidate has a breaker gauge (closed = 0).
    assert 'btm_ai_breaker_state{kind="image",model="nano-banana-2",provider="kie"} 0.0' in text


def test_the_token_never_appears_in_the_body(client, db, metrics_on):
    assert TOKEN.encode() not in _scrape(client).content


def test_the_sample_grafana_dashboard_uses_only_metrics_we_export(client, db, metrics_on, chain):
    import json
    from pathlib import Path

    chain("chat", [("Answers", "simulated", "ok")])
    cascade.run("chat", AIRequest(prompt="x"), venue=None, service="t")
    exported = set(re.findall(r"^# TYPE (\w+) (\w+)", _scrape(client).content.decode(), re.M))
    names = {name for name, kind in exported} | {
        f"{name}_{suffix}"
        for name, kind in exported
        for suffix in ("total", "bucket")
        if kind in ("counter", "histogram")
    }
    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text()
    )
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bbtm_\w+", target["expr"])
    }
    assert used and used <= names, used - names


def test_jobs_waiting_for_or_held_by_a_worker_are_gauged(client, db, metrics_on, venue):
    from composer.models import Job

    for number, status in enumerate(("queued", "queued", "running", "succeeded", "failed")):
        Job.objects.create(
            venue=venue,
            kind="image",
            service="social.generateImage",
            status=status,
            request_id=f"job-{number}",
        )
    text = _scrape(client).content.decode()
    assert 'btm_jobs{status="queued"} 2.0' in text
    assert 'btm_jobs{status="running"} 1.0' in text
