"""Paid calls as jobs, on the real task backend (TASKS_BACKEND: db by default, or rq) and drained
with that backend's own worker code: queued at once, charged once, captured or refunded once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.tasks import task_backends
from django.utils import timezone

from alerts.models import Alert
from bitethemenu.errors import FriendlyError
from composer import jobs
from composer.models import Asset, AssetEmbedding, Job
from credits import gate
from credits.models import Hold, LedgerEntry
from credits.reconcile import refund_stale_holds
from tests.jobs.conftest import START_BALANCE

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_COST = 4
HTMX = {"HTTP_HX_REQUEST": "true"}


def _entries(venue, kind):
    return LedgerEntry.objects.filter(venue=venue, kind=kind).count()


@pytest.fixture
def as_staff(client, staff):
    client.force_login(staff)
    return client


def test_generate_is_queued_at_once_and_charged_then_the_worker_makes_the_image(
    job_backend, funded, staff, simulated
):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Crispy calamari")

    assert job.status == Job.Status.QUEUED and job.asset is None  # nothing ran in the request
    assert gate.balance_of(funded) == START_BALANCE - IMAGE_COST  # the hold is taken at enqueue
    assert Hold.objects.get(request_id=job.request_id).status == Hold.Status.PENDING

    job_backend()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.asset.kind == Asset.Kind.IMAGE
    assert job.started_at and job.finished_at and job.asset.image
    assert Hold.objects.get(request_id=job.request_id).status == Hold.Status.CAPTURED
    assert gate.balance_of(funded) == START_BALANCE - IMAGE_COST
    assert _entries(funded, LedgerEntry.Kind.REFUND) == 0
    assert not job.upload  # nothing of the request is kept once it ran


def test_library_indexing_is_its_own_job_after_the_generation(job_backend, funded, staff, simulated):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Lemon tart")
    job_backend()  # runs the generation, which queues the indexing…
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    job_backend()  # …which the next pass runs
    assert AssetEmbedding.objects.filter(asset=job.asset).exists()


def test_an_exhausted_chain_fails_the_job_calmly_refunds_once_and_alerts(
    job_backend, funded, staff, simulated, chain
):
    chain("image", "gone", "sensitive")
    job = jobs.submit_image(venue=funded, user=staff, prompt="Steak")
    job_backend()

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.asset is None
    assert job.error.code == "ai_unavailable" and job.error.http_status == 503
    assert "Try rephrasing" in job.error.user_message  # a safety refusal: the copy fits the cause
    assert "Sim gone" in job.error.technical_detail  # for support tickets, never in the stage
    assert gate.balance_of(funded) == START_BALANCE
    assert _entries(funded, LedgerEntry.Kind.REFUND) == 1
    assert Alert.objects.filter(service="social.generateImage").count() == 1


def test_the_stage_names_the_first_candidate_then_only_a_backup(
    job_backend, funded, staff, chain, monkeypatch
):
    chain("image", "server-error", "ok")
    stages = []
    real_progress = jobs._Progress.__call__

    def spy(self, label):  # what a page polling at that moment would read
        real_progress(self, label)
        stages.append(Job.objects.get(pk=self.job_id).stage)

    monkeypatch.setattr(jobs._Progress, "__call__", spy)
    job = jobs.submit_image(venue=funded, user=staff, prompt="Soup")
    job_backend()

    assert stages == ["Trying Sim server-error…", "Trying a backup…"]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and "Sim ok" not in job.stage


def test_a_task_delivered_twice_runs_the_chain_and_charges_once(job_backend, funded, staff, simulated):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Ramen")
    job_backend()
    assert jobs.execute(job.pk) == Job.Status.SUCCEEDED  # a redelivery: nothing runs twice
    assert Asset.objects.filter(venue=funded).count() == 1
    assert _entries(funded, LedgerEntry.Kind.CHARGE) == 1


# --- Failure modes ---------------------------------------------------------------------------------


def test_queue_unreachable_at_enqueue_gives_calm_copy_and_charges_nothing(
    job_backend, backend_name, settings, funded, staff, simulated, monkeypatch
):
    if backend_name == "rq":  # a real unreachable Redis (nothing listens on port 9)
        settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:9/3?socket_connect_timeout=1"}}
    else:  # the database backend's queue is a table: make writing to it fail

        def refuse(*args, **kwargs):
            raise DatabaseError("could not write the task row")

        monkeypatch.setattr(type(task_backends["default"]), "enqueue", refuse)

    with pytest.raises(FriendlyError) as caught:
        jobs.submit_image(venue=funded, user=staff, prompt="Burger")

    error = caught.value
    assert error.code == "ai_unavailable" and error.http_status == 503
    assert "haven't been charged" in error.user_message
    assert "6379" not in error.technical_detail and "redis://" not in error.technical_detail
    assert gate.balance_of(funded) == START_BALANCE
    job = Job.objects.get(venue=funded)
    assert job.status == Job.Status.FAILED and job.error.user_message == error.user_message


def test_queue_unreachable_on_the_composer_shows_the_amber_banner(
    job_backend, funded, as_staff, simulated, monkeypatch
):
    def refuse(*args, **kwargs):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(type(task_backends["default"]), "enqueue", refuse)
    response = as_staff.post("/composer/image/", {"prompt": "Fries", "style": ""}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "banner-amber friendly-error" in body and "been charged for this one" in body
    assert gate.balance_of(funded) == START_BALANCE


def test_worker_killed_mid_job_is_failed_and_refunded_exactly_once(job_backend, funded, staff, simulated):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Gnocchi")
    # What a killed worker leaves behind: the job claimed (running), the hold pending, no outcome.
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())

    assert refund_stale_holds() == 0  # still within JOB_STALE_SECONDS: maybe just slow
    assert gate.balance_of(funded) == START_BALANCE - IMAGE_COST

    later = timezone.now() + timedelta(seconds=3600)
    assert refund_stale_holds(now=later) == 1
    assert refund_stale_holds(now=later) == 0  # a second reconciler run (or machine) refunds nothing
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "haven't been charged" in job.error.user_message
    assert gate.balance_of(funded) == START_BALANCE
    assert _entries(funded, LedgerEntry.Kind.REFUND) == 1

    job_backend()  # the task is still queued (db) or was lost (rq): running it changes nothing
    assert gate.balance_of(funded) == START_BALANCE and not Asset.objects.filter(venue=funded).exists()


def test_a_long_queue_keeps_its_holds_the_reconciler_refunds_only_dead_calls(
    job_backend, funded, staff, simulated
):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Paella")
    later = timezone.now() + timedelta(hours=2)  # past the hold TTL and JOB_STALE_SECONDS

    assert refund_stale_holds(now=later) == 0  # its task is only waiting its turn
    job_backend()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert gate.balance_of(funded) == START_BALANCE - IMAGE_COST


def test_a_job_whose_task_the_queue_lost_is_failed_and_refunded(
    job_backend, backend_name, funded, staff, simulated
):
    job = jobs.submit_image(venue=funded, user=staff, prompt="Tacos")
    Job.objects.filter(pk=job.pk).update(task_id="no-such-task")  # e.g. Redis flushed, or a bad row
    later = timezone.now() + timedelta(hours=2)
    assert refund_stale_holds(now=later) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert gate.balance_of(funded) == START_BALANCE


def test_web_restarted_mid_job_loses_nothing_and_the_page_picks_it_up(
    job_backend, funded, as_staff, simulated
):
    as_staff.post("/composer/image/", {"prompt": "Bao buns", "style": ""}, **HTMX)
    job = Job.objects.get(venue=funded)
    assert job.status == Job.Status.QUEUED

    # A restart: every in-process handle on the queue is gone; only the database and queue remain.
    from tests.jobs.conftest import _reset_task_backends

    _reset_task_backends()
    page = as_staff.get("/composer/").content.decode()
    assert f'data-job-id="{job.pk}"' in page and 'hx-trigger="every 1s"' in page
    library = as_staff.get("/library/").content.decode()
    assert f'id="placeholder-job-{job.pk}"' in library

    job_backend()
    done = as_staff.get(f"/jobs/{job.pk}/", **HTMX).content.decode()
    job.refresh_from_db()
    assert f'data-asset-id="{job.asset_id}"' in done and "Saved to your Library" in done
    assert 'hx-trigger="every 1s"' not in done  # finished: the polling stops


def test_a_library_placeholder_becomes_the_new_images_card_when_its_job_ends(
    job_backend, funded, as_staff, simulated
):
    as_staff.post("/composer/image/", {"prompt": "Fig and goat cheese tart", "style": ""}, **HTMX)
    job = Job.objects.get(venue=funded)
    library = as_staff.get("/library/").content.decode()
    assert f'hx-get="/library/jobs/{job.pk}/"' in library  # the placeholder polls its job

    still = as_staff.get(f"/library/jobs/{job.pk}/", **HTMX).content.decode()
    assert "Still being made" in still and 'hx-trigger="every 2s"' in still

    job_backend()
    job.refresh_from_db()
    card = as_staff.get(f"/library/jobs/{job.pk}/", **HTMX).content.decode()
    assert f'id="asset-{job.asset_id}"' in card and f"/library/{job.asset_id}/image/" in card
    assert "every 2s" not in card  # ended: the polling stops
    assert 'name="next" value="/library/"' in card  # Archive from the card comes back to the Library
    filtered = as_staff.get(
        f"/library/jobs/{job.pk}/", HTTP_HX_CURRENT_URL="http://testserver/library/?kind=image", **HTMX
    ).content.decode()
    assert 'name="next" value="/library/?kind=image"' in filtered  # …to the page it sits on


def test_a_library_placeholder_whose_job_failed_says_so_calmly(job_backend, funded, as_staff, chain):
    chain("image", "server-error")
    as_staff.post("/composer/image/", {"prompt": "Paella", "style": ""}, **HTMX)
    job = Job.objects.get(venue=funded)
    job_backend()

    card = as_staff.get(f"/library/jobs/{job.pk}/", **HTMX).content.decode()
    assert 'data-job-status="failed"' in card and "haven't been charged" in card
    assert "busy or down" in card  # the copy that fits a provider outage
    assert "Server Error" not in card and "every 2s" not in card


def test_another_venues_library_job_is_404(job_backend, funded, as_staff, other_venue, outsider, simulated):
    gate.grant(venue=other_venue, amount=10, note="t")
    theirs = jobs.submit_image(venue=other_venue, user=outsider, prompt="Theirs")
    assert as_staff.get(f"/library/jobs/{theirs.pk}/").status_code == 404
    for poll in (f"/library/jobs/{theirs.pk}/", f"/jobs/{theirs.pk}/"):
        stopped = as_staff.get(poll, **HTMX)  # a poll for it (say, the venue switched in another tab)…
        assert stopped.status_code == 286 and stopped.content == b""  # …stops, and shows nothing of it


def test_coming_back_after_the_job_ended_shows_its_result_in_the_panel_once(
    job_backend, funded, as_staff, simulated
):
    as_staff.post("/composer/image/", {"prompt": "Grilled halloumi", "style": ""}, **HTMX)
    job_backend()  # it finished while the page was closed
    job = Job.objects.get(venue=funded)

    page = as_staff.get("/composer/").content.decode()
    assert f'data-asset-id="{job.asset_id}"' in page and "Saved to your Library" in page

    again = as_staff.get("/composer/").content.decode()
    assert f'data-asset-id="{job.asset_id}"' not in again  # seen: now only the Library has it


def test_a_job_watched_to_its_end_is_not_shown_again_on_arrival(job_backend, funded, as_staff, chain):
    chain("image", "server-error")
    as_staff.post("/composer/image/", {"prompt": "Paella", "style": ""}, **HTMX)
    job_backend()
    job = Job.objects.get(venue=funded)
    polled = as_staff.get(f"/jobs/{job.pk}/", **HTMX).content.decode()
    assert 'data-job-status="failed"' in polled  # the panel's poll showed the amber banner

    page = as_staff.get("/composer/").content.decode()
    assert f'data-job-id="{job.pk}"' not in page and 'data-job-status="failed"' not in page


def test_a_job_that_ended_long_ago_unseen_is_left_to_the_library(job_backend, funded, as_staff, simulated):
    as_staff.post("/composer/image/", {"prompt": "Churros", "style": ""}, **HTMX)
    job_backend()
    job = Job.objects.get(venue=funded)
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=2))

    page = as_staff.get("/composer/").content.decode()
    assert f'data-job-id="{job.pk}"' not in page


# --- One venue cannot hold every worker ----------------------------------------------------------


def test_a_venue_at_its_jobs_in_flight_cap_is_refused_calmly_and_not_charged(
    job_backend, funded, staff, other_venue, outsider, simulated, settings
):
    settings.JOBS_IN_FLIGHT_PER_VENUE = 2
    for prompt in ("Burrata", "Focaccia"):
        jobs.submit_image(venue=funded, user=staff, prompt=prompt)  # both wait in the queue
    balance = gate.balance_of(funded)

    with pytest.raises(FriendlyError) as refused:
        jobs.submit_image(venue=funded, user=staff, prompt="Tiramisu")
    assert refused.value.code == "rate_limited" and refused.value.http_status == 429
    assert "2 requests in progress" in refused.value.user_message
    assert gate.balance_of(funded) == balance and Job.objects.filter(venue=funded).count() == 2

    gate.grant(venue=other_venue, amount=10, note="t")  # another restaurant is not held up
    assert jobs.submit_image(venue=other_venue, user=outsider, prompt="Ramen").status == Job.Status.QUEUED

    job_backend()  # the queue moves: a slot is free again
    assert jobs.submit_image(venue=funded, user=staff, prompt="Tiramisu").status == Job.Status.QUEUED


def test_the_composer_shows_the_cap_as_the_amber_banner(job_backend, funded, as_staff, simulated, settings):
    settings.JOBS_IN_FLIGHT_PER_VENUE = 1
    as_staff.post("/composer/image/", {"prompt": "Gnocchi", "style": ""}, **HTMX)
    body = as_staff.post("/composer/image/", {"prompt": "Risotto", "style": ""}, **HTMX).content.decode()
    assert 'data-error-code="rate_limited"' in body and "banner-amber" in body
    assert "You already have 1 request in progress" in body and "haven&#x27;t been charged" in body
    assert Job.objects.filter(venue=funded).count() == 1
