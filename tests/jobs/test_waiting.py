"""API calls waiting for their jobs share one poll per web process (composer.waiting): the
database sees a query a tick however many calls wait, and each caller wakes when its job ends."""

from __future__ import annotations

import asyncio
import threading

import pytest

from composer import waiting
from composer.models import Job

pytestmark = pytest.mark.django_db(transaction=True)  # the watcher reads on a thread of its own


@pytest.fixture(autouse=True)
def _quick_polls(settings):
    settings.API_JOB_POLL_SECONDS = 0.05


def _jobs(venue, count: int) -> list[Job]:
    return [
        Job.objects.create(venue=venue, kind="image", service="social.generateImage", request_id=f"wait-{n}")
        for n in range(count)
    ]


def _end_later(job_ids: list[int], after: float) -> threading.Timer:
    def end() -> None:
        Job.objects.filter(pk__in=job_ids).update(status=Job.Status.SUCCEEDED)

    timer = threading.Timer(after, end)
    timer.start()
    return timer


def test_twenty_waiting_calls_wake_when_their_jobs_end_from_one_shared_poll(venue):
    jobs = _jobs(venue, 20)
    timer = _end_later([job.pk for job in jobs], after=0.5)

    async def scenario() -> tuple[list[bool], int]:
        ended = await asyncio.gather(*(waiting.until_ended(job.pk, timeout=10) for job in jobs))
        return ended, waiting.watcher().polls

    ended, polls = asyncio.run(scenario())
    timer.join()

    assert ended == [True] * 20
    # About 0.5 s / 0.05 s polls for all twenty together — not twenty times that.
    assert 1 <= polls <= 40


def test_each_caller_wakes_for_its_own_job_not_for_the_others(venue):
    early, late = _jobs(venue, 2)
    _end_later([early.pk], after=0.2).join()

    async def scenario() -> tuple[bool, bool]:
        early_ended, late_ended = await asyncio.gather(
            waiting.until_ended(early.pk, timeout=5), waiting.until_ended(late.pk, timeout=0.5)
        )
        return early_ended, late_ended

    assert asyncio.run(scenario()) == (True, False)  # the late job still queued: its caller timed out


def test_a_poll_that_fails_keeps_the_callers_waiting_until_the_database_answers(venue, monkeypatch):
    (job,) = _jobs(venue, 1)
    real = waiting.ended_among
    calls = {"n": 0}

    def blinking(job_ids: list[int]) -> set[int]:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("the database blinked")
        return real(job_ids)

    monkeypatch.setattr(waiting, "ended_among", blinking)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)

    assert asyncio.run(waiting.until_ended(job.pk, timeout=5)) is True
    assert calls["n"] == 3


def test_the_watcher_stops_polling_once_nobody_waits(venue):
    (job,) = _jobs(venue, 1)

    async def scenario() -> bool:
        await waiting.until_ended(job.pk, timeout=0.2)
        await asyncio.sleep(0.2)  # a poll in flight when the caller gave up lands
        polls = waiting.watcher().polls
        await asyncio.sleep(0.3)
        watcher = waiting.watcher()
        return watcher.polls == polls and not watcher.polling

    assert asyncio.run(scenario())


def test_a_job_deleted_while_its_caller_waits_wakes_the_caller(venue):
    (job,) = _jobs(venue, 1)
    timer = threading.Timer(0.2, lambda: Job.objects.filter(pk=job.pk).delete())
    timer.start()
    assert asyncio.run(waiting.until_ended(job.pk, timeout=5)) is True  # not 5 s of waiting on nothing
    timer.join()


def test_watchers_of_closed_event_loops_are_let_go(venue):
    import gc
    import weakref

    (job,) = _jobs(venue, 1)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    closed = []
    for _ in range(3):  # under WSGI each waiting call runs on a loop of its own
        loop = asyncio.new_event_loop()
        assert loop.run_until_complete(waiting.until_ended(job.pk, timeout=5)) is True
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        closed.append(weakref.ref(loop))
        del loop
    gc.collect()
    assert [ref() for ref in closed] == [None, None, None]  # neither loops nor their watchers kept
