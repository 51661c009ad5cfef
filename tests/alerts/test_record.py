from __future__ import annotations

import threading

import pytest
from django.db import connection

from alerts.models import Alert, AlertAttempt, SlackStatus
from alerts.record import acknowledge, acknowledge_all, record_exhaustion

pytestmark = pytest.mark.django_db


def test_it_writes_one_alert_with_every_attempt_in_order(venue, seed_attempts):
    alert = record_exhaustion(
        kind="image", service="social.generateImage", venue=venue, attempts=seed_attempts, request_id="req-1"
    )

    assert Alert.objects.count() == 1
    alert.refresh_from_db()
    assert (alert.kind, alert.service, alert.venue, alert.request_id) == (
        "image",
        "social.generateImage",
        venue,
        "req-1",
    )
    assert (
        alert.last_error
        == "OpenAI gpt-image-2 → model_not_found (404): The model `gpt-image-2` does not exist"
    )
    rows = list(AlertAttempt.objects.filter(alert=alert))
    assert [r.label for r in rows] == [a.label for a in seed_attempts]
    assert [r.position for r in rows] == [0, 1, 2, 3]
    assert (rows[0].reason, rows[0].status_code, rows[0].duration_ms) == ("safety", 200, 812)
    assert rows[2].status_code is None and rows[2].outcome == "skipped"
    assert rows[3].result == "404 model_not_found"
    assert not alert.is_acknowledged


def test_it_marks_slack_not_configured_without_a_webhook(venue, seed_attempts, settings):
    settings.SLACK_ALERTS_WEBHOOK_URL = ""
    alert = record_exhaustion(kind="image", service="s", venue=None, attempts=seed_attempts)
    assert alert.slack_status == SlackStatus.NOT_CONFIGURED
    assert alert.venue is None


def test_odd_provider_text_never_costs_the_alert_its_row(venue):
    """A provider message with a NUL or a lone surrogate (JSON "\\u0000", "\\ud800") is free text from
    outside: PostgreSQL refuses NUL and no database stores a lone surrogate, so it is cleaned."""
    from alerts.attempts import Attempt

    odd = Attempt(
        "KIE\x00 Nano",
        "kie",
        "nano-banana-2\x00",
        "failed",
        "safety",
        200,
        "flagged \x00as\ud800 sensitive",
        10**12,
    )
    alert = record_exhaustion(
        kind="image", service="social.generateImage\x00", venue=venue, attempts=[odd], request_id="req\x00-1"
    )
    alert.refresh_from_db()
    row = alert.attempts.get()
    assert (row.label, row.model, row.message) == ("KIE Nano", "nano-banana-2", "flagged as? sensitive")
    assert (alert.service, alert.request_id) == ("social.generateImage", "req-1")
    assert alert.last_error == "KIE Nano → safety: flagged as? sensitive"  # a 2xx status says nothing
    assert row.duration_ms == 2**31 - 1


def test_a_status_that_is_not_http_is_dropped(venue):
    from alerts.attempts import Attempt

    alert = record_exhaustion(
        kind="chat",
        service="s",
        venue=venue,
        attempts=[
            Attempt("A", "openai", "m", "failed", "server", 70000, "odd", 1),
            Attempt("B", "openai", "m", "failed", "server", -1, "odd", 1),
        ],
    )
    assert [a.status_code for a in alert.attempts.all()] == [None, None]


def test_it_rolls_back_with_the_caller(venue, seed_attempts):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        record_exhaustion(kind="chat", service="social.writeCaption", venue=venue, attempts=seed_attempts)
        raise RuntimeError("caller failed")
    assert Alert.objects.count() == 0
    assert AlertAttempt.objects.count() == 0


def test_acknowledge_records_who_and_when_once(venue, seed_attempts, superadmin, django_user_model):
    alert = record_exhaustion(kind="ocr", service="menu.importFromPhoto", venue=venue, attempts=seed_attempts)
    other = django_user_model.objects.create_superuser("root2", "r2@example.com", "pw")

    first = acknowledge(alert_id=alert.pk, user=superadmin)
    second = acknowledge(alert_id=alert.pk, user=other)

    assert first.acknowledged_by == superadmin and first.acknowledged_at is not None
    assert second.acknowledged_by == superadmin
    assert second.acknowledged_at == first.acknowledged_at
    assert Alert.objects.unacknowledged().count() == 0


def test_acknowledge_raises_for_an_unknown_alert(superadmin):
    with pytest.raises(Alert.DoesNotExist):
        acknowledge(alert_id=999_999, user=superadmin)


def test_acknowledge_all_counts_only_open_alerts(venue, seed_attempts, superadmin):
    alerts = [
        record_exhaustion(kind="image", service="s", venue=venue, attempts=seed_attempts) for _ in range(3)
    ]
    acknowledge(alert_id=alerts[0].pk, user=superadmin)

    assert acknowledge_all(user=superadmin) == 2
    assert acknowledge_all(user=superadmin) == 0
    assert Alert.objects.unacknowledged().count() == 0


def test_acknowledge_all_up_to_an_id_leaves_newer_alerts_open(venue, seed_attempts, superadmin):
    seen = [
        record_exhaustion(kind="image", service="s", venue=venue, attempts=seed_attempts) for _ in range(2)
    ]
    newer = record_exhaustion(kind="image", service="s", venue=venue, attempts=seed_attempts)

    assert acknowledge_all(user=superadmin, up_to_id=seen[-1].pk) == 2
    assert list(Alert.objects.unacknowledged()) == [newer]


@pytest.mark.django_db(transaction=True)
def test_acknowledge_and_acknowledge_all_racing_leave_consistent_state(
    venue, seed_attempts, django_user_model
):
    alerts = [
        record_exhaustion(kind="image", service="s", venue=venue, attempts=seed_attempts) for _ in range(30)
    ]
    users = [
        django_user_model.objects.create_superuser(f"root{i}", f"r{i}@example.com", "pw") for i in range(4)
    ]
    barrier = threading.Barrier(4)
    bulk_counts: dict[int, int] = {}
    errors: list[BaseException] = []

    def bulk(user):
        try:
            barrier.wait()
            bulk_counts[user.pk] = acknowledge_all(user=user)
        except BaseException as exc:  # surfaced below: an exception in a thread would be lost
            errors.append(exc)
        finally:
            connection.close()

    def singles(user):
        try:
            barrier.wait()
            for alert in alerts:
                acknowledge(alert_id=alert.pk, user=user)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=bulk, args=(users[0],)),
        threading.Thread(target=bulk, args=(users[1],)),
        threading.Thread(target=singles, args=(users[2],)),
        threading.Thread(target=singles, args=(users[3],)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert Alert.objects.unacknowledged().count() == 0
    # Every row was acknowledged exactly once: what each bulk call reports is exactly what it owns.
    for user in users[:2]:
        assert Alert.objects.filter(acknowledged_by=user).count() == bulk_counts[user.pk]
    assert Alert.objects.filter(acknowledged_by__in=users).count() == 30
    record_exhaustion(kind="image", service="s", venue=venue, attempts=seed_attempts)
    assert Alert.objects.unacknowledged().count() == 1
