"""Waiting for jobs to end without a thread or a database connection per waiting call.

A paid API call without `Prefer: respond-async` waits for its job (composer.api.answer). Sixty-four of
them polling on their own would ask the database sixty-four times a tick and churn as many
connections. Instead each event loop — one per uvicorn worker — keeps one watcher: every
API_JOB_POLL_SECONDS it asks once which of the awaited jobs have ended and wakes their callers, and
it stops when nobody waits. The web stays as cheap with 64 calls waiting as with none.

The poll reads on a thread (and connection) of its own, so it sees committed rows only: a caller
inside an open transaction — Django's TestCase — would wait in vain (tests use transactional ones).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from composer.models import Job

logger = logging.getLogger(__name__)


class JobWatcher:
    """The jobs some callers on one event loop await, and the one poll that wakes them."""

    def __init__(self) -> None:
        # No reference to the loop itself: it is this watcher's key in a weak dictionary, and a
        # closed loop (one per call under WSGI's async_to_sync) must be free to go.
        self.waiting: dict[int, list[asyncio.Future[None]]] = {}
        self.polling = False  # a poll task is running (held in _POLLERS, not here: see there)
        self.polls = 0  # how many database round trips this watcher made (the benchmark's story)
        self.failing = False  # the last poll failed (logged once per outage, not on every tick)

    async def until_ended(self, job_id: int, timeout: float) -> bool:
        """True once the job has ended (or is gone), False when `timeout` seconds passed first."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(job_id, []).append(future)
        self._ensure_polling()
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._forget(job_id, future)

    def _ensure_polling(self) -> None:
        if not self.polling:
            self.polling = True
            # A fresh context: the poll must not run in (or keep alive) the first waiting request's.
            poller = asyncio.get_running_loop().create_task(self._poll(), context=contextvars.Context())
            _POLLERS.add(poller)
            poller.add_done_callback(_POLLERS.discard)

    def _forget(self, job_id: int, future: asyncio.Future[None]) -> None:
        futures = self.waiting.get(job_id, [])
        if future in futures:
            futures.remove(future)
        if not futures:
            self.waiting.pop(job_id, None)

    async def _poll(self) -> None:
        try:
            await self._poll_while_waited_on()
        finally:
            self.polling = False

    async def _poll_while_waited_on(self) -> None:
        while self.waiting:
            await asyncio.sleep(settings.API_JOB_POLL_SECONDS)
            if not self.waiting:
                return
            try:
                ended = await sync_to_async(ended_among, thread_sensitive=False)(list(self.waiting))
            except Exception:  # the database blinked: the waiters keep their own deadlines
                if not self.failing:
                    logger.warning("job watcher: polling the jobs failed; retrying", exc_info=True)
                self.failing = True
                continue
            finally:
                self.polls += 1
            if self.failing:
                logger.info("job watcher: polling the jobs works again")
                self.failing = False
            for job_id in ended:
                for future in self.waiting.pop(job_id, []):
                    if not future.done():
                        future.set_result(None)


def ended_among(job_ids: list[int]) -> set[int]:
    """Which of these jobs are no longer queued or running (a deleted job counts as ended: its
    caller must not wait on it): one query, then the connection goes back (to the pool, or closed)
    — a watcher sleeping between polls holds none."""
    try:
        active = Job.objects.filter(pk__in=job_ids, status__in=Job.ACTIVE)
        return set(job_ids) - set(active.values_list("pk", flat=True))
    finally:
        if not connection.in_atomic_block:
            connection.close()


# The running poll tasks. asyncio keeps only weak references to tasks, so they are held here — not
# on the watcher, where task → loop would keep the loop (the watcher's weak key) alive for ever.
_POLLERS: set[asyncio.Task[None]] = set()

_watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, JobWatcher] = weakref.WeakKeyDictionary()


def watcher() -> JobWatcher:
    """This event loop's watcher (made on first use)."""
    loop = asyncio.get_running_loop()
    if loop not in _watchers:
        _watchers[loop] = JobWatcher()
    return _watchers[loop]


async def until_ended(job_id: int, timeout: float) -> bool:
    """Wait, holding no thread and no connection, until the job ends; False after `timeout` s."""
    return await watcher().until_ended(job_id, timeout)
