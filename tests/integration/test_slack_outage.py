"""A Slack outage is invisible to the operator: with Slack hanging, erroring or refusing, an exhausted
Generate gives the same calm error, in the same time, with the same ledger as with Slack switched off."""

from __future__ import annotations

import time

import pytest

from alerts.models import Alert, SlackStatus
from composer import services
from credits import gate
from credits.models import LedgerEntry
from resilience.errors import ChainExhausted
from resilience.models import ChainCandidate
from tests.alerts.slack_stub import SlackStub, closed_port_url

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def exhausting_image_chain(settings, tmp_path, venue, job_backend):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALERTS_DELIVERY = "task"  # the default: Slack after commit, as a task on the worker
    settings.SLACK_ALERTS_TIMEOUT = 1.0
    ChainCandidate.objects.filter(kind="image").delete()
    for priority, model in enumerate(["sensitive", "gone"], start=1):
        ChainCandidate.objects.create(
            kind="image", priority=priority, label=f"Sim {model}", provider="simulated", model=model
        )
    gate.grant(venue=venue, amount=20, note="test credits")
    return job_backend


def _generate(venue, user) -> tuple[float, ChainExhausted]:
    started = time.monotonic()
    with pytest.raises(ChainExhausted) as caught:
        services.generate_image(venue=venue, user=user, prompt="Meat pasta, close up")
    return time.monotonic() - started, caught.value


def _ledger_shape(venue) -> list[tuple[str, int]]:
    return [(entry.kind, entry.amount) for entry in LedgerEntry.objects.filter(venue=venue).order_by("id")]


@pytest.mark.parametrize("outage", ["hanging", "500", "refused"])
def test_an_exhausted_generate_is_the_same_with_slack_down_as_with_slack_off(
    exhausting_image_chain, settings, venue, staff, outage
):
    settings.SLACK_ALERTS_WEBHOOK_URL = ""
    baseline_seconds, baseline_error = _generate(venue, staff)
    ledger_after_baseline = _ledger_shape(venue)

    stub = SlackStub(
        status=200 if outage == "hanging" else 500, delay=3.0 if outage == "hanging" else 0.0, body=b""
    )
    with stub:
        settings.SLACK_ALERTS_WEBHOOK_URL = closed_port_url() if outage == "refused" else stub.url
        seconds, error = _generate(venue, staff)
        # The operator's answer does not wait for Slack (which hangs 3 s per try here).
        assert seconds < baseline_seconds + 0.5, (
            f"{seconds:.2f}s with Slack {outage}, {baseline_seconds:.2f}s off"
        )
        exhausting_image_chain()  # the worker's pass: Slack delivery happens here, not above

    # Same calm answer…
    assert (error.code, error.user_message, error.http_status) == (
        baseline_error.code,
        baseline_error.user_message,
        baseline_error.http_status,
    )
    assert error.technical_detail == baseline_error.technical_detail
    # …the same ledger movement (charge, then its refund) and the balance untouched…
    assert _ledger_shape(venue)[len(ledger_after_baseline) :] == ledger_after_baseline[1:]
    assert gate.balance_of(venue) == 20
    # …and the super admin still gets both inbox rows; only the second one's Slack delivery failed.
    latest = Alert.objects.order_by("-id").first()
    assert Alert.objects.count() == 2
    assert latest.slack_status == SlackStatus.FAILED
