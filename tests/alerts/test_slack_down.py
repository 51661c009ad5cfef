"""Slack down must never reach the caller: record_exhaustion returns as fast as with Slack off
(delivery is a task on the real backend; the tests then run the worker's pass)."""

from __future__ import annotations

import logging
import time

import pytest

from alerts import notify
from alerts.models import Alert, SlackStatus
from alerts.record import record_exhaustion
from tests.alerts.slack_stub import SECRET_PATH, SlackStub, closed_port_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def task_mode(settings, monkeypatch, job_backend):
    """The default: each alert is a task on the real backend; calling it runs the worker's pass."""
    settings.ALERTS_DELIVERY = "task"
    settings.SLACK_ALERTS_TIMEOUT = 1.0
    monkeypatch.setattr(notify, "_sleep", lambda seconds: None)
    return job_backend


def _timed_record(venue, attempts) -> tuple[float, Alert]:
    started = time.monotonic()
    alert = record_exhaustion(kind="image", service="social.generateImage", venue=venue, attempts=attempts)
    return time.monotonic() - started, alert


def _assert_secret_free(caplog, alert: Alert) -> None:
    assert SECRET_PATH not in caplog.text and "sEcReT" not in caplog.text
    assert "sEcReT" not in alert.slack_error and "127.0.0.1" not in alert.slack_error


@pytest.mark.parametrize(
    ("status", "delay", "expected_error"),
    [
        (200, 3.0, "timed out"),
        (500, 0.0, "webhook returned 500"),
    ],
)
def test_slack_down_does_not_slow_or_break_the_caller(
    venue, seed_attempts, settings, task_mode, caplog, status, delay, expected_error
):
    caplog.set_level(logging.DEBUG)
    settings.SLACK_ALERTS_WEBHOOK_URL = ""
    baseline, _ = _timed_record(venue, seed_attempts)

    with SlackStub(status=status, delay=delay, body=b"") as stub:
        settings.SLACK_ALERTS_WEBHOOK_URL = stub.url
        elapsed, alert = _timed_record(venue, seed_attempts)
        assert elapsed < 0.5, (
            f"record_exhaustion took {elapsed:.2f}s with Slack down (baseline {baseline:.2f}s)"
        )
        task_mode()

    alert.refresh_from_db()
    assert alert.slack_status == SlackStatus.FAILED
    assert alert.slack_error == expected_error
    assert len(stub.requests) == 2  # bounded: two tries, then give up
    _assert_secret_free(caplog, alert)


def test_connection_refused_is_recorded_not_raised(venue, seed_attempts, settings, task_mode, caplog):
    caplog.set_level(logging.DEBUG)
    settings.SLACK_ALERTS_WEBHOOK_URL = closed_port_url()
    elapsed, alert = _timed_record(venue, seed_attempts)
    assert elapsed < 0.5
    task_mode()

    alert.refresh_from_db()
    assert alert.slack_status == SlackStatus.FAILED
    assert alert.slack_error == "connection refused"
    _assert_secret_free(caplog, alert)


def test_a_working_stub_receives_the_message_from_the_worker(venue, seed_attempts, settings, task_mode):
    with SlackStub(status=200, body=b"ok") as stub:
        settings.SLACK_ALERTS_WEBHOOK_URL = stub.url
        _, alert = _timed_record(venue, seed_attempts)
        task_mode()

    alert.refresh_from_db()
    assert alert.slack_status == SlackStatus.SENT
    assert len(stub.requests) == 1 and b"social.generateImage" in stub.requests[0]


def test_a_burst_sends_one_message_and_schedules_the_digest(
    venue, seed_attempts, settings, task_mode, backend_name
):
    with SlackStub(status=200, body=b"ok") as stub:
        settings.SLACK_ALERTS_WEBHOOK_URL = stub.url
        for _ in range(20):
            _timed_record(venue, seed_attempts)
        task_mode()

    statuses = sorted(Alert.objects.values_list("slack_status", flat=True))
    assert statuses.count(SlackStatus.SENT) == 1
    assert statuses.count(SlackStatus.DIGESTED) == 19
    assert len(stub.requests) == 1  # racing deliveries: exactly one wins the window
    assert deferred_flushes(backend_name) == 1  # one digest at the window's end, for social.generateImage


def deferred_flushes(backend_name: str) -> int:
    """How many digest flushes wait in the task backend for a later run_after."""
    if backend_name == "rq":
        import django_rq

        return django_rq.get_queue("default").scheduled_job_registry.count
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path="alerts.tasks.flush_digests", run_after__isnull=False
    ).count()
