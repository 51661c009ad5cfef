"""The real worker command (what scripts/worker runs), in its own process, against this test's
database and the backend named by TASKS_BACKEND: it runs queued jobs, and when it is killed
mid-job the reconciler fails the job and refunds it exactly once. Bounded: ~10 s each."""

from __future__ import annotations

import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from composer import jobs
from composer.models import Job
from credits import gate
from credits.models import Hold, LedgerEntry
from credits.reconcile import refund_stale_holds
from tests.jobs.conftest import START_BALANCE, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_COST = 4


def _status(job: Job) -> str:
    job.refresh_from_db()
    return job.status


def test_the_worker_process_runs_a_queued_job_to_its_image(
    job_backend, worker_process, funded, staff, simulated
):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Grilled octopus")
    worker = worker_process()

    wait_for(lambda: _status(job) == Job.Status.SUCCEEDED, timeout=45)
    worker.send_signal(signal.SIGTERM)  # a graceful stop between tasks
    assert worker.wait(timeout=15) is not None

    assert job.asset.image and Hold.objects.get(request_id=job.request_id).status == Hold.Status.CAPTURED
    assert gate.balance_of(funded) == START_BALANCE - IMAGE_COST


def test_a_worker_killed_mid_job_leaves_a_job_the_reconciler_fails_and_refunds_once(
    job_backend, worker_process, funded, staff, chain
):
    chain("image", "slow")  # two seconds inside the provider call: time to kill the worker there
    job = jobs.submit_image(venue=funded, user=staff, prompt="Slow-cooked ribs")
    worker = worker_process()
    wait_for(lambda: _status(job) == Job.Status.RUNNING, timeout=45)

    worker.kill()  # SIGKILL: no cleanup, no capture, no refund
    worker.wait(timeout=10)
    assert _status(job) == Job.Status.RUNNING
    assert gate.balance_of(funded) == START_BALANCE - IMAGE_COST

    later = timezone.now() + timedelta(hours=1)
    assert refund_stale_holds(now=later) == 1
    assert refund_stale_holds(now=later) == 0
    assert _status(job) == Job.Status.FAILED
    assert gate.balance_of(funded) == START_BALANCE
    assert LedgerEntry.objects.filter(venue=funded, kind=LedgerEntry.Kind.REFUND).count() == 1
