from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.core.management import call_command
from django.utils import timezone

from alerts import notify
from alerts.attempts import Attempt
from alerts.models import Alert, SlackChannelState, SlackStatus
from alerts.record import record_exhaustion

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.test/services/T000/B000/XXXXsecretXXXX"


@pytest.fixture
def slack(settings):
    settings.SLACK_ALERTS_WEBHOOK_URL = WEBHOOK
    settings.ALERTS_DELIVERY = "sync"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


@pytest.fixture
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(notify, "_sleep", slept.append)
    return slept


@pytest.fixture
def clock(monkeypatch):
    """A fake clock: set clock.now; everything reading django.utils.timezone.now sees it."""

    class Clock:
        now = datetime(2026, 11, 26, 14, 2, 0, tzinfo=UTC)

        def advance(self, **kw):
            self.now += timedelta(**kw)

    c = Clock()
    monkeypatch.setattr(timezone, "now", lambda: c.now)
    return c


def _record(venue, attempts, *, service="social.generateImage", kind="image", on_commit=None):
    if on_commit is None:
        return record_exhaustion(kind=kind, service=service, venue=venue, attempts=attempts)
    with on_commit(execute=True):
        alert = record_exhaustion(kind=kind, service=service, venue=venue, attempts=attempts)
    alert.refresh_from_db()
    return alert


def _body(call) -> dict:
    return json.loads(call.request.body)


def test_it_posts_one_message_with_text_and_blocks_on_commit(
    venue, seed_attempts, slack, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, body="ok")
    with django_capture_on_commit_callbacks() as callbacks:
        alert = record_exhaustion(
            kind="image",
            service="social.generateImage",
            venue=venue,
            attempts=seed_attempts,
            request_id="req-9",
        )
        assert len(slack.calls) == 0  # nothing is sent inside the transaction
    for callback in callbacks:
        callback()

    assert len(slack.calls) == 1
    body = _body(slack.calls[0])
    assert "Image chain exhausted" in body["text"]
    assert "social.generateImage" in body["text"]
    assert "Chez A &amp; Co" in body["text"]
    blob = json.dumps(body["blocks"], ensure_ascii=False)
    assert "KIE Nano Banana 2 · kie nano-banana-2 → safety" in blob
    assert "OpenAI gpt-image-2 · openai gpt-image-2 → 404 model_not_found" in blob
    assert "req-9" in blob
    alert.refresh_from_db()
    assert alert.slack_status == SlackStatus.SENT and alert.slack_sent_at is not None


def test_it_escapes_provider_text_for_slack_mrkdwn(venue, slack, django_capture_on_commit_callbacks):
    slack.post(WEBHOOK, body="ok")
    attempts = [
        Attempt(
            "Evil <b>", "openai", "m", "failed", "bad_request", 400, "<script>alert(1)</script> & <!channel>"
        )
    ]
    _record(venue, attempts, on_commit=django_capture_on_commit_callbacks)

    raw = slack.calls[0].request.body.decode()
    assert "<script>" not in raw and "<!channel>" not in raw
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;"
        in json.loads(raw)["blocks"][1]["text"]["text"]
    )


def test_it_sends_nothing_without_a_webhook(
    venue, seed_attempts, settings, django_capture_on_commit_callbacks
):
    settings.SLACK_ALERTS_WEBHOOK_URL = ""
    with responses.RequestsMock() as rsps:
        alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)
        assert len(rsps.calls) == 0
    assert alert.slack_status == SlackStatus.NOT_CONFIGURED


def test_it_tries_twice_on_a_500_and_records_the_failure(
    venue, seed_attempts, slack, no_sleep, caplog, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, status=500, body="internal_error")
    caplog.set_level(logging.DEBUG)
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)

    assert len(slack.calls) == 2
    assert no_sleep == [notify.BACKOFF]
    assert alert.slack_status == SlackStatus.FAILED
    assert alert.slack_error == "webhook returned 500 internal_error"
    assert SlackChannelState.objects.get().disabled_at is None
    assert "webhook returned 500" in caplog.text
    assert "secret" not in caplog.text.lower() and "hooks.slack.test" not in caplog.text


def test_it_honours_retry_after_on_429_capped(
    venue, seed_attempts, slack, no_sleep, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, status=429, body="rate_limited", headers={"Retry-After": "30"})
    slack.post(WEBHOOK, body="ok")
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)

    assert len(slack.calls) == 2
    assert no_sleep == [notify.RETRY_AFTER_CAP]
    assert alert.slack_status == SlackStatus.SENT


def test_a_404_disables_slack_until_re_enabled(
    venue, seed_attempts, slack, no_sleep, caplog, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, status=404, body="no_service")
    first = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)

    assert len(slack.calls) == 1  # permanent: no second try
    assert first.slack_status == SlackStatus.FAILED and first.slack_error == "webhook returned 404 no_service"
    state = SlackChannelState.objects.get()
    assert state.disabled_at is not None and state.disabled_reason == "webhook returned 404 no_service"

    second = _record(
        venue,
        seed_attempts,
        service="social.writeCaption",
        kind="chat",
        on_commit=django_capture_on_commit_callbacks,
    )
    assert len(slack.calls) == 1  # no further attempts to Slack
    assert second.slack_status == SlackStatus.SUPPRESSED
    assert second.slack_error == "Slack disabled: webhook returned 404 no_service"
    assert "XXXXsecret" not in caplog.text

    slack.replace(responses.POST, WEBHOOK, body="ok")
    result = notify.send_test_ping()
    assert result.ok and "re-enabled" in result.message
    assert SlackChannelState.objects.get().disabled_at is None


@pytest.mark.parametrize(
    ("status", "body", "permanent"),
    [
        (410, "channel_is_archived", True),
        (403, "action_prohibited", True),
        (400, "invalid_token", True),
        (400, "invalid_payload", False),
    ],
)
def test_it_classifies_slack_errors(
    venue, seed_attempts, slack, no_sleep, status, body, permanent, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, status=status, body=body)
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)

    assert len(slack.calls) == 1
    assert alert.slack_error == f"webhook returned {status} {body}"
    assert (SlackChannelState.objects.get().disabled_at is not None) is permanent


def test_a_body_that_is_not_a_slack_token_is_not_copied_into_the_error(
    venue, seed_attempts, slack, no_sleep, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, status=502, body="<html>Bad gateway for " + WEBHOOK + "</html>")
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)
    assert alert.slack_error == "webhook returned 502"


def test_fifty_exhaustions_in_a_minute_give_one_message_then_a_digest(
    venue, seed_attempts, slack, clock, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, body="ok")
    alerts = []
    for _ in range(50):
        alerts.append(_record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks))
        clock.advance(seconds=1)

    assert Alert.objects.count() == 50  # the inbox still has one row per exhausted request
    assert len(slack.calls) == 1
    assert alerts[0].slack_status == SlackStatus.SENT
    assert {a.slack_status for a in alerts[1:]} == {SlackStatus.DIGESTED}

    other = _record(
        venue, seed_attempts, service="editor.editImage", on_commit=django_capture_on_commit_callbacks
    )
    assert other.slack_status == SlackStatus.SENT  # each kind+service has its own window
    assert len(slack.calls) == 2

    clock.advance(minutes=1)
    assert notify.flush_digests() == 0  # the window is not over yet
    clock.advance(minutes=4)
    assert notify.flush_digests() == 1
    assert len(slack.calls) == 3
    assert "+49 more social.generateImage failures since 14:02" in _body(slack.calls[2])["text"]
    assert notify.flush_digests() == 0  # reported once
    assert not Alert.objects.filter(slack_status=SlackStatus.DIGESTED, slack_sent_at__isnull=True).exists()


def test_the_next_alert_after_the_window_carries_the_digest_count(
    venue, seed_attempts, slack, clock, django_capture_on_commit_callbacks
):
    slack.post(WEBHOOK, body="ok")
    for _ in range(3):
        _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)
        clock.advance(seconds=10)
    clock.advance(minutes=6)
    late = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)

    assert late.slack_status == SlackStatus.SENT
    assert len(slack.calls) == 2
    body = _body(slack.calls[1])
    assert "+2 more social.generateImage failures since 14:02" in body["text"]
    assert "+2 more social.generateImage failures since 14:02" in json.dumps(body["blocks"])
    assert notify.flush_digests() == 0


def test_send_alerts_delivers_what_the_worker_has_not(
    venue, seed_attempts, slack, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.ALERTS_DELIVERY = "task"
    monkeypatch.setattr(notify, "enqueue", lambda alert_id: None)  # its task was never queued
    slack.post(WEBHOOK, body="ok")
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)
    assert alert.slack_status == SlackStatus.PENDING and len(slack.calls) == 0

    call_command("send_alerts", "--once")
    alert.refresh_from_db()
    assert alert.slack_status == SlackStatus.SENT and len(slack.calls) == 1

    call_command("send_alerts", "--once")
    assert len(slack.calls) == 1  # nothing is sent twice
    assert notify.deliver(alert.pk) == SlackStatus.SENT and len(slack.calls) == 1


def test_test_ping_reports_failures_inline_without_retrying(slack, no_sleep):
    slack.post(WEBHOOK, status=500, body="oops")
    result = notify.send_test_ping()
    assert not result.ok
    assert result.message == "Slack test ping failed: webhook returned 500 oops."
    assert len(slack.calls) == 1


def test_test_ping_without_a_webhook_says_so(settings, db):
    settings.SLACK_ALERTS_WEBHOOK_URL = ""
    result = notify.send_test_ping()
    assert not result.ok and "not configured" in result.message


def test_delivery_never_raises_even_if_the_seam_does(
    venue, seed_attempts, slack, monkeypatch, django_capture_on_commit_callbacks
):
    def boom(*args, **kwargs):
        raise ValueError("bug in the seam")

    monkeypatch.setattr(notify.http, "request", boom)
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)
    assert alert.slack_status == SlackStatus.FAILED
    assert alert.slack_error == "unexpected ValueError"


def test_the_worker_requeues_a_claim_whose_sender_died(
    venue, seed_attempts, slack, clock, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.ALERTS_DELIVERY = "task"
    monkeypatch.setattr(notify, "enqueue", lambda alert_id: None)
    slack.post(WEBHOOK, body="ok")
    alert = _record(venue, seed_attempts, on_commit=django_capture_on_commit_callbacks)
    assert notify.claim(alert.pk)  # a sender claims it, then its process dies

    call_command("send_alerts", "--once")
    assert len(slack.calls) == 0  # a fresh claim is left alone
    clock.advance(minutes=6)
    call_command("send_alerts", "--once")
    alert.refresh_from_db()
    assert alert.slack_status == SlackStatus.SENT and len(slack.calls) == 1
