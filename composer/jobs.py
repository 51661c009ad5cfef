"""Paid AI calls as jobs: queued at once, run on a task worker, watched by the venue's page.

The web request only validates, charges and queues (`submit_*`): it never waits for a provider.
The worker (`composer.tasks.run_job` → `execute`) walks the chain, saves the asset, then captures
the hold — or refunds it and keeps the FriendlyError on the job. The credit gate's hold spans the
job, and its database constraints keep "charged once, refunded at most once" whoever races: the
worker, a retry, or the reconciler that fails jobs whose worker died (`fail_abandoned_jobs`).

Venue copy on a job (`stage`) says what is happening ("Trying a backup…"), never which lab answered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError
from django.db.models import QuerySet
from django.tasks import task_backends
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone
from django_tasks.exceptions import TaskResultDoesNotExist as BackportResultMissing

from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from bitethemenu.ratelimits import RateLimited
from composer import services, tasks
from composer.models import Asset, Job
from credits import gate
from credits.models import Hold
from resilience.types import AIRequest

logger = logging.getLogger(__name__)

# django-tasks-rq (a django-tasks-rq dependency, always installed) still raises the backport's class.
RESULT_MISSING = (TaskResultDoesNotExist, BackportResultMissing)
ENDED_TASK_STATUSES = {"FAILED", "SUCCESSFUL"}  # by value: the backport's enum is another class

STAGE_QUEUED = "Waiting for a free worker…"
STAGE_STARTING = "Starting…"
STAGE_BACKUP = "Trying a backup…"
QUEUE_DOWN_MESSAGE = (
    "We couldn't start that right now. Try again in a minute — you haven't been charged for this one."
)
TOO_LATE_MESSAGE = (
    "That took too long on our side, so we stopped it. Try again — you haven't been charged for it."
)
IN_FLIGHT_MESSAGE = (
    "You already have {requests} in progress. Wait for one of them to finish, then try again "
    "— you haven't been charged for this one."
)
IN_FLIGHT_RETRY_SECONDS = 15  # about when a running job ends or moves on to a backup
PRIMARY_PREFIX = "Venue primary: "


@dataclass(frozen=True)
class JobResult:
    """A finished job as the synchronous call would have answered: the asset (or embedding output)
    and its cost — or the FriendlyError (credits refunded)."""

    job: Job
    error: FriendlyError | None


# --- Submitting (web side: validate, charge, queue — never wait) --------------------------------


def submit_image(
    *,
    venue: Venue,
    user: Any,
    prompt: str,
    style: str = "",
    reference: str | bytes | None = None,
    request_id: str = "",
) -> Job:
    """Queue `social.generateImage` (input errors and 402/409 raise here, nothing charged)."""
    call = services.image_call(prompt=prompt, style=style, reference=reference)
    request = call.request
    return _submit(
        venue=venue,
        user=user,
        call=call,
        params={"prompt": request.prompt, "style": request.style},
        upload=(request.reference_image, request.reference_mime),
        request_id=request_id,
    )


def submit_edit(*, venue: Venue, user: Any, asset: Asset, instruction: str, request_id: str = "") -> Job:
    """Queue `editor.editImage` of one of the venue's images."""
    call = services.edit_call(venue=venue, asset=asset, instruction=instruction)
    params = {"asset_id": asset.pk, "instruction": call.request.prompt}
    return _submit(venue=venue, user=user, call=call, params=params, request_id=request_id)


def submit_caption(*, venue: Venue, user: Any, prompt: str, tone: str = "", request_id: str = "") -> Job:
    """Queue `social.writeCaption`."""
    call = services.caption_call(venue=venue, prompt=prompt, tone=tone)
    params = {"prompt": call.asset_fields["prompt"], "tone": call.asset_fields["style"]}
    return _submit(venue=venue, user=user, call=call, params=params, request_id=request_id)


def submit_menu(*, venue: Venue, user: Any, document: str | bytes, request_id: str = "") -> Job:
    """Queue `menu.importFromPhoto` (a photo or PDF of the menu)."""
    call = services.menu_call(document=document)
    upload = (call.request.document, call.request.document_mime)
    return _submit(venue=venue, user=user, call=call, params={}, upload=upload, request_id=request_id)


def submit_embeddings(*, venue: Venue, user: Any, inputs: list[str], request_id: str = "") -> Job:
    """Queue `api.embeddings` (the job's output holds the model and the vectors)."""
    call = services.embedding_call(inputs=inputs)
    params = {"inputs": list(call.request.inputs)}
    return _submit(venue=venue, user=user, call=call, params=params, request_id=request_id)


def _submit(
    *,
    venue: Venue,
    user: Any,
    call: services.PaidCall,
    params: dict[str, Any],
    request_id: str,
    upload: tuple[bytes | None, str] = (None, ""),
) -> Job:
    request_id = services.clean_request_id(request_id)
    try:
        check_in_flight(venue)
        cost = services.admit(venue=venue, user=user, kind=call.kind, service=call.service)
        charged = gate.charge(venue=venue, kind=call.kind, request_id=request_id, by=_user(user), cost=cost)
        job = _create(venue, user, call, params, upload, request_id, charged.cost)
    except FriendlyError as error:
        raise services.calm_error(error, call=call, request_id=request_id) from None
    except Exception as exc:
        gate.refund(venue=venue, request_id=request_id, note=gate.FAILED_CALL_NOTE)
        raise services.unexpected_error(call=call, request_id=request_id) from exc
    _enqueue(job)
    job.refresh_from_db()
    return job


def check_in_flight(venue: Venue) -> None:
    """Refuse a new job (RateLimited, 429; nothing charged or counted) while the venue already has
    JOBS_IN_FLIGHT_PER_VENUE queued or running: the task workers are shared by every venue. A soft
    cap — two submits racing may both pass — which is all fairness needs."""
    limit = settings.JOBS_IN_FLIGHT_PER_VENUE
    if limit and Job.objects.filter(venue=venue, status__in=Job.ACTIVE).count() >= limit:
        raise RateLimited(
            IN_FLIGHT_MESSAGE.format(requests=f"{limit} request{'' if limit == 1 else 's'}"),
            f"{limit} jobs already queued or running for this venue (JOBS_IN_FLIGHT_PER_VENUE)",
            retry_after=IN_FLIGHT_RETRY_SECONDS,
        )


def _create(
    venue: Venue,
    user: Any,
    call: services.PaidCall,
    params: dict[str, Any],
    upload: tuple[bytes | None, str],
    request_id: str,
    cost: int,
) -> Job:
    job = Job(
        venue=venue,
        user=_user(user),
        kind=call.kind,
        service=call.service,
        request_id=request_id,
        params=params,
        stage=STAGE_QUEUED,
        credits_charged=cost,
    )
    data, mime = upload
    if data:
        job.upload_mime = mime
        job.upload.save(f"{request_id}.bin", ContentFile(data), save=False)
    try:
        job.save()
    except IntegrityError:  # a free kind (no charge to collide on) sent twice with the same key
        raise FriendlyError(
            "conflict",
            "This request was already made.",
            f"request_id {request_id!r} has a job",
            http_status=409,
        ) from None
    return job


def _enqueue(job: Job) -> None:
    """Hand the job to the task backend. If the queue is unreachable, nothing is charged: the hold
    is refunded and the job fails with calm copy, and the caller gets the same FriendlyError."""
    try:
        result = tasks.run_job.enqueue(job.pk)
    except Exception as exc:
        logger.exception("could not queue job %s (%s)", job.pk, job.service)
        error = FriendlyError(
            "ai_unavailable",
            QUEUE_DOWN_MESSAGE,
            f"{job.service}: the task queue is unreachable ({type(exc).__name__})",
            http_status=503,
            request_id=job.request_id,
        )
        _settle_failed(job, error)
        raise error from None
    Job.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id)[:64])


# --- Running (worker side) -----------------------------------------------------------------------


def execute(job_id: int) -> str:
    """Run a queued job once: claim it, walk the chain, save, capture — or refund and fail calmly.
    A job already claimed or finished is left alone (a redelivered task does nothing twice)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=now, stage=STAGE_STARTING
    )
    job = Job.objects.select_related("venue", "user").filter(pk=job_id).first()
    if claimed != 1 or job is None:
        return job.status if job else "missing"
    if _hold_settled(job):
        # The reconciler gave the credits back while the job waited: running it now would be free work.
        _settle_failed(job, FriendlyError("ai_unavailable", TOO_LATE_MESSAGE, "the hold was already settled"))
        return Job.Status.FAILED
    call = services.PaidCall(kind=job.kind, service=job.service, request=AIRequest(), asset_fields={})
    try:
        call = _rebuild_call(job)
        outcome = _perform(job, call)
    except FriendlyError as error:
        _settle_failed(job, services.calm_error(error, call=call, request_id=job.request_id))
    except Exception:  # noqa: BLE001 — a bug below us: calm copy for the venue, a traceback for us
        _settle_failed(job, services.unexpected_error(call=call, request_id=job.request_id))
    else:
        _settle_succeeded(job, outcome)
    finally:
        _drop_upload(job)
    job.refresh_from_db()
    return job.status


def _hold_settled(job: Job) -> bool:
    """The job's hold was captured or refunded already (a free call may have none at all)."""
    return (
        Hold.objects.filter(venue_id=job.venue_id, request_id=job.request_id)
        .exclude(status=Hold.Status.PENDING)
        .exists()
    )


def _rebuild_call(job: Job) -> services.PaidCall:
    """The validated call again, from what the job stored."""
    params, venue = job.params, job.venue
    if job.service == "social.generateImage":
        return services.image_call(prompt=params["prompt"], style=params["style"], reference=_upload(job))
    if job.service == "editor.editImage":
        asset = Asset.objects.filter(pk=params["asset_id"], venue=venue).first()
        if asset is None:
            raise FriendlyError(
                "not_found", "We couldn't find that image.", "the image was deleted", http_status=404
            )
        return services.edit_call(venue=venue, asset=asset, instruction=params["instruction"])
    if job.service == "social.writeCaption":
        return services.caption_call(venue=venue, prompt=params["prompt"], tone=params["tone"])
    if job.service == "menu.importFromPhoto":
        return services.menu_call(document=_upload(job) or b"")
    return services.embedding_call(inputs=params["inputs"], service=job.service)


def _perform(job: Job, call: services.PaidCall) -> Asset | services.Embedding:
    progress = _Progress(job.pk)
    if call.kind == "embedding":  # vectors, not an asset
        model, vectors = services.embed(call, venue=job.venue, request_id=job.request_id, on_attempt=progress)
        return services.Embedding(
            model=model, vectors=vectors, credits_charged=job.credits_charged, balance=0
        )
    return services.perform(
        call, venue=job.venue, user=job.user, request_id=job.request_id, on_attempt=progress
    )


class _Progress:
    """The cascade's on_attempt callback: the first real try names the candidate ("Trying KIE Nano
    Banana 2…"), every later one is just "a backup" — the venue never learns which lab answered."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.tries = 0

    def __call__(self, label: str) -> None:
        self.tries += 1
        stage = f"Trying {label.removeprefix(PRIMARY_PREFIX)}…" if self.tries == 1 else STAGE_BACKUP
        Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(stage=stage[:120])


def _upload(job: Job) -> bytes | None:
    if not job.upload:
        return None
    with job.upload.open("rb") as handle:
        data: bytes = handle.read()
    return data


def _drop_upload(job: Job) -> None:
    """The reference photo or menu is kept only until the job ran (the asset keeps what matters)."""
    if job.upload:
        try:
            job.upload.delete(save=False)
            Job.objects.filter(pk=job.pk).update(upload="")
        except OSError:
            logger.warning("could not delete the upload of job %s", job.pk)


def _settle_succeeded(job: Job, outcome: Asset | services.Embedding) -> None:
    if not gate.capture(venue=job.venue, request_id=job.request_id) and _hold_refunded(job):
        # Refunded while it ran (the reconciler gave up on it): never delivered free.
        services.discard(outcome if isinstance(outcome, Asset) else None)
        _settle_failed(job, gate.ResultDiscarded(job.request_id))
        return
    fields: dict[str, Any] = {"status": Job.Status.SUCCEEDED, "finished_at": timezone.now(), "stage": "Done"}
    if isinstance(outcome, Asset):
        fields["asset"] = outcome
    else:
        fields["output"] = {"model": outcome.model, "vectors": outcome.vectors}
    if not Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields):
        logger.warning("job %s finished after it was settled elsewhere", job.pk)
    if isinstance(outcome, Asset):
        services.enqueue_indexing(outcome)


def _hold_refunded(job: Job) -> bool:
    return Hold.objects.filter(
        venue_id=job.venue_id, request_id=job.request_id, status=Hold.Status.REFUNDED
    ).exists()


def _settle_failed(job: Job, error: FriendlyError) -> bool:
    """Refund (exactly once: the gate's claim; a free call's allowance comes back) and record the
    calm error. False when the job had already finished (someone else settled it)."""
    gate.refund(venue=job.venue, request_id=job.request_id, note=gate.FAILED_CALL_NOTE)
    return bool(
        Job.objects.filter(pk=job.pk, status__in=Job.ACTIVE).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            stage="",
            error_code=error.code,
            error_message=error.user_message,
            error_detail=error.technical_detail[:2000],
            error_status=error.http_status or 503,
        )
    )


# --- Reading ---------------------------------------------------------------------------------------


def jobs_for(venue: Venue, *, status: str | None = None) -> QuerySet[Job]:
    jobs = Job.objects.filter(venue=venue).select_related("asset")
    return jobs.filter(status=status) if status else jobs


def active_jobs(venue: Venue, *, services_: Iterable[str]) -> list[Job]:
    """The venue's queued and running jobs of these services, oldest first (the panels show them)."""
    return list(
        Job.objects.filter(venue=venue, status__in=Job.ACTIVE, service__in=list(services_))
        .order_by("created_at", "id")
        .select_related("asset")[:10]
    )


# A job that ended while its user was away is shown in its panel on their next visit within this window
# (after that, only the Library has it).
UNSEEN_WINDOW = timedelta(hours=1)


def panel_jobs(venue: Venue, user: Any, *, services_: Iterable[str]) -> list[Job]:
    """What a panel shows on arrival: this user's jobs that ended while they were away (never shown
    to them: the image they left the page for, or the amber banner of one that failed), then the
    venue's running ones — leaving the page and coming back finds each job where it is."""
    services_ = list(services_)
    unseen = (
        Job.objects.filter(
            venue=venue,
            user=user,
            service__in=services_,
            seen_at__isnull=True,
            finished_at__gte=timezone.now() - UNSEEN_WINDOW,
        )
        .exclude(status__in=Job.ACTIVE)
        .order_by("-finished_at", "-id")
        .select_related("asset")[:3]
    )
    return [*reversed(list(unseen)), *active_jobs(venue, services_=services_)]


def mark_seen(shown: Iterable[Job]) -> None:
    """These jobs are on the user's screen: the ended ones need not be shown again on arrival."""
    ended = [job.pk for job in shown if not job.is_active and job.seen_at is None]
    if ended:
        Job.objects.filter(pk__in=ended, seen_at__isnull=True).update(seen_at=timezone.now())


def job_for_venue(venue: Venue, job_id: int) -> Job | None:
    return Job.objects.filter(venue=venue, pk=job_id).select_related("asset").first()


# --- Worker died / queue lost: the reconciler's side ------------------------------------------------


def fail_abandoned_jobs(now: datetime | None = None) -> int:
    """Fail (and refund, exactly once) jobs nobody will finish: running past JOB_STALE_SECONDS
    (the worker was killed mid-job), or still queued long after the task backend finished or lost
    their task. A queued job whose task is only waiting its turn is left alone. Returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_SECONDS)
    failed = 0
    stale = Job.objects.filter(status=Job.Status.RUNNING, started_at__lt=cutoff).select_related("venue")
    for job in stale[:500]:
        failed += _fail_abandoned(job, "the worker stopped mid-job")
    waiting = Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=cutoff).select_related("venue")
    for job in waiting[:500]:
        if _task_lost(job):
            failed += _fail_abandoned(job, "the task queue lost the job")
    return failed


def _fail_abandoned(job: Job, why: str) -> int:
    error = FriendlyError("ai_unavailable", TOO_LATE_MESSAGE, f"{job.service}: {why}", http_status=503)
    if _settle_failed(job, error):
        logger.warning("job %s failed as abandoned: %s", job.pk, why)
        return 1
    return 0


def _task_lost(job: Job) -> bool:
    backend = task_backends["default"]
    if not job.task_id:
        return True
    if not backend.supports_get_result:
        return False
    try:
        status = backend.get_result(job.task_id).status
    except RESULT_MISSING:
        return True
    except Exception:  # noqa: BLE001 — the queue is unreachable: don't guess, look again next run
        return False
    return str(getattr(status, "value", status)) in ENDED_TASK_STATUSES


def live_request_ids(request_ids: Iterable[str]) -> set[str]:
    """Of these hold request ids, those whose job is still queued or running: their hold spans the
    job, so the reconciler must not refund it for its age alone."""
    return set(
        Job.objects.filter(request_id__in=list(request_ids), status__in=Job.ACTIVE).values_list(
            "request_id", flat=True
        )
    )


def _user(user: Any) -> Any:
    return user if user is not None and getattr(user, "is_authenticated", False) else None
