"""Slack delivery for alerts: fire-and-forget, digested, and switched off by permanent errors.

Contract (healthchecks' transports, with STYLE.md lessons 5, 8, 9):
- Nothing here runs on a user's request path. `enqueue()` is called on commit and, per
  settings.ALERTS_DELIVERY, queues a django.tasks task that a worker runs ("task") or sends inline
  ("sync", tests). The end of a digest window is a deferred task (`run_after`) too.
- Only the caller that wins the conditional UPDATE pending → sending may send an alert.
- At most one Slack message per kind+service per WINDOW; alerts inside a window are marked
  "digested" and counted in the next message ("+49 more social.generateImage failures since 14:02").
- Bounded tries (TRIES), Retry-After honoured on 429 (capped), a permanent error (404, 410, 403,
  400 invalid_token) disables the channel until a super admin re-enables it.
- Every error from the seam is caught and recorded as a short phrase. The webhook URL is read from
  settings at call time and never logged, stored or shown.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import Alert, SlackChannelState, SlackStatus, SlackWindow
from bitethemenu import http

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=5)
TRIES = 2
RETRY_AFTER_CAP = 3.0  # seconds: we are on a task worker, but it must not linger
BACKOFF = 0.5  # seconds before the second try after a 5xx / timeout
MAX_ATTEMPT_LINES = 8
STALE_CLAIM = timedelta(minutes=5)  # far longer than TRIES × timeout + RETRY_AFTER_CAP

# Slack answers errors with a short token in a text/plain body:
# https://api.slack.com/messaging/webhooks#handling_errors
_PERMANENT_TOKENS = {
    "invalid_token",
    "no_service",
    "channel_not_found",
    "channel_is_archived",
    "action_prohibited",
    "no_team",
    "team_disabled",
}
_TOKEN = re.compile(r"^[a-z_]{1,40}$")

_sleep = time.sleep  # patched in tests


class SlackError(Exception):
    """A failed delivery. `short` is secret-free: built from the status and Slack's error token."""

    def __init__(
        self,
        short: str,
        *,
        permanent: bool = False,
        retryable: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(short)
        self.short = short
        self.permanent = permanent
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class PingResult:
    ok: bool
    message: str


# --- The channel switch -----------------------------------------------------------------------


def channel_state() -> SlackChannelState:
    state, _ = SlackChannelState.objects.get_or_create(pk=1)
    return state


def disable_channel(*, reason: str) -> bool:
    """Switch Slack delivery off after a permanent error; True if this call switched it off."""
    channel_state()
    return bool(
        SlackChannelState.objects.filter(pk=1, disabled_at__isnull=True).update(
            disabled_at=timezone.now(), disabled_reason=reason[:200], updated_at=timezone.now()
        )
    )


def enable_channel() -> bool:
    """Switch Slack delivery back on (the admin's "Re-enable", or a successful test ping)."""
    channel_state()
    return bool(
        SlackChannelState.objects.filter(pk=1, disabled_at__isnull=False).update(
            disabled_at=None, disabled_reason="", updated_at=timezone.now()
        )
    )


# --- The wire ---------------------------------------------------------------------------------


def _is_loopback(url: str) -> bool:
    # Plain http is allowed only to this machine (a local Slack stub); the real webhook is https.
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, min(float(value or 1), RETRY_AFTER_CAP))
    except ValueError:
        return 1.0


def classify(response: http.Response) -> SlackError:
    """Map a non-2xx webhook answer to a SlackError (permanent ones disable the channel)."""
    body = response.text.strip()[:60]
    token = body if _TOKEN.match(body) else ""
    short = f"webhook returned {response.status}" + (f" {token}" if token else "")
    status = response.status
    if status == 429:
        return SlackError(short, retryable=True, retry_after=_retry_after(response.header("Retry-After")))
    if status >= 500:
        return SlackError(short, retryable=True)
    # 404 no_service / 410 channel_is_archived / 403 action_prohibited: the webhook is gone.
    if status in (403, 404, 410) or token in _PERMANENT_TOKENS:
        return SlackError(short, permanent=True)
    # Any other 4xx (e.g. 400 invalid_payload) is our message's fault: retrying will not help.
    return SlackError(short)


def post(payload: dict[str, Any], *, tries: int = TRIES) -> None:
    """POST one message to the configured webhook. Raises SlackError; never anything else."""
    url = settings.SLACK_ALERTS_WEBHOOK_URL
    if not url:
        raise SlackError("Slack is not configured")
    timeout = settings.SLACK_ALERTS_TIMEOUT
    error = SlackError("not sent")
    for attempt in range(tries):
        try:
            # The webhook is operator-configured: the seam's private-address guard trusts its host.
            response = http.request(
                "POST",
                url,
                timeout=timeout,
                json=payload,
                allow_http=_is_loopback(url),
                trusted_hosts=(http.host_and_port(url),),
            )
        except http.OutboundError as exc:
            error = SlackError(exc.short, retryable=exc.kind in ("timeout", "connection"))
        except Exception as exc:  # the seam should not raise anything else; if it does, record it
            error = SlackError(f"unexpected {type(exc).__name__}")
        else:
            if response.ok:
                return
            error = classify(response)
        if not error.retryable or attempt + 1 >= tries:
            break
        _sleep(error.retry_after if error.retry_after is not None else BACKOFF)
    raise error


# --- Messages ---------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack mrkdwn escaping: only &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _since(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def digest_line(*, count: int, service: str, since: datetime | None) -> str:
    text = f"+{count} more {service} failure{'s' if count != 1 else ''}"
    return text + (f" since {_since(since)}" if since else "")


def alert_payload(alert: Alert, *, more: int = 0, since: datetime | None = None) -> dict[str, Any]:
    """The Slack message for one alert: `text` (notification fallback) plus Block Kit `blocks`."""
    kind = alert.get_kind_display()
    venue = alert.venue.name if alert.venue else "no venue"
    text = f"{kind} chain exhausted · {alert.service} · {venue}: {alert.last_error}"
    lines = [
        f"• {escape(a.label)} · {escape(a.provider)} {escape(a.model)} → {escape(a.result)}"
        + (f": {escape(a.message[:120])}" if a.message else "")
        for a in alert.attempts.all()[:MAX_ATTEMPT_LINES]
    ]
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f":warning: *{kind} chain exhausted* · `{escape(alert.service)}` · {escape(venue)}",
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines) or escape(alert.last_error)}},
    ]
    context = [f"{timezone.localtime(alert.created_at):%Y-%m-%d %H:%M:%S %Z}"]
    if alert.request_id:
        context.append(f"request {escape(alert.request_id)}")
    if more:
        summary = digest_line(count=more, service=alert.service, since=since)
        text += f" ({summary})"
        context.append(escape(summary))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    return {"text": escape(text), "blocks": blocks}


def digest_payload(*, kind_label: str, service: str, count: int, since: datetime | None) -> dict[str, Any]:
    line = escape(digest_line(count=count, service=service, since=since))
    return {
        "text": f"{kind_label}: {line}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":warning: *{kind_label}* {line}"}}
        ],
    }


# --- Delivery ---------------------------------------------------------------------------------


def _mark(alert_id: int, status: str, *, error: str = "", sent_at: datetime | None = None) -> None:
    Alert.objects.filter(pk=alert_id).update(
        slack_status=status, slack_error=error[:200], slack_sent_at=sent_at
    )


def claim(alert_id: int) -> bool:
    """pending → sending; only the caller that gets True may send this alert."""
    return (
        Alert.objects.filter(pk=alert_id, slack_status=SlackStatus.PENDING).update(
            slack_status=SlackStatus.SENDING, slack_claimed_at=timezone.now()
        )
        == 1
    )


def requeue_stale_claims() -> int:
    """sending → pending for claims older than STALE_CLAIM (their sender died mid-send)."""
    return Alert.objects.filter(
        slack_status=SlackStatus.SENDING, slack_claimed_at__lt=timezone.now() - STALE_CLAIM
    ).update(slack_status=SlackStatus.PENDING)


def _claim_window(kind: str, service: str, now: datetime) -> tuple[bool, datetime | None]:
    """Open a new digest window for kind+service if the last one is over.

    Returns (won, previous_opened_at). A compare-and-swap on opened_at, so two senders can never
    both win the same window.
    """
    row = SlackWindow.objects.filter(kind=kind, service=service).first()
    if row is None:
        try:
            with transaction.atomic():
                SlackWindow.objects.create(kind=kind, service=service, opened_at=now)
            return True, None
        except IntegrityError:
            return False, now  # another sender opened it a moment ago
    if row.opened_at > now - WINDOW:
        return False, row.opened_at
    won = SlackWindow.objects.filter(pk=row.pk, opened_at=row.opened_at).update(opened_at=now) == 1
    return won, row.opened_at


def _unreported(kind: str, service: str) -> list[int]:
    return list(
        Alert.objects.filter(
            kind=kind, service=service, slack_status=SlackStatus.DIGESTED, slack_sent_at__isnull=True
        ).values_list("pk", flat=True)
    )


def _fail(error: SlackError, what: str) -> str:
    logger.warning("slack %s failed: %s", what, error.short)  # the short phrase only, never the URL
    if error.permanent and disable_channel(reason=error.short):
        logger.warning("slack delivery disabled: %s", error.short)
    return error.short


def deliver(alert_id: int) -> str:
    """Send one pending alert to Slack (or digest it). Returns the alert's final slack_status.

    Never raises: any failure is recorded on the alert and logged as a short phrase.
    """
    try:
        return _deliver(alert_id)
    except Exception as exc:  # fire-and-forget: a bug here must not escape into a thread or the caller
        logger.error("slack delivery for alert %s crashed: %s", alert_id, type(exc).__name__)
        Alert.objects.filter(pk=alert_id, slack_status=SlackStatus.SENDING).update(
            slack_status=SlackStatus.FAILED, slack_error=f"internal error ({type(exc).__name__})"
        )
        return SlackStatus.FAILED


def _deliver(alert_id: int) -> str:
    if not settings.SLACK_ALERTS_WEBHOOK_URL:
        Alert.objects.filter(pk=alert_id, slack_status=SlackStatus.PENDING).update(
            slack_status=SlackStatus.NOT_CONFIGURED
        )
        return SlackStatus.NOT_CONFIGURED
    if not claim(alert_id):
        return Alert.objects.filter(pk=alert_id).values_list("slack_status", flat=True).first() or ""
    state = channel_state()
    if state.disabled_at:
        _mark(alert_id, SlackStatus.SUPPRESSED, error=f"Slack disabled: {state.disabled_reason}")
        return SlackStatus.SUPPRESSED
    alert = Alert.objects.select_related("venue").get(pk=alert_id)
    now = timezone.now()
    won, previous = _claim_window(alert.kind, alert.service, now)
    if not won:
        _mark(alert_id, SlackStatus.DIGESTED)
        _schedule_flush(alert.kind, alert.service, previous)
        return SlackStatus.DIGESTED
    # Once a window is won it stays used even if Slack fails: while Slack is down we try at most
    # once per kind+service per window instead of once per alert.
    digested = _unreported(alert.kind, alert.service)
    try:
        post(alert_payload(alert, more=len(digested), since=previous))
    except SlackError as exc:
        _mark(alert_id, SlackStatus.FAILED, error=_fail(exc, f"alert {alert_id}"))
        return SlackStatus.FAILED
    sent_at = timezone.now()
    _mark(alert_id, SlackStatus.SENT, sent_at=sent_at)
    Alert.objects.filter(pk__in=digested).update(slack_sent_at=sent_at)
    return SlackStatus.SENT


def flush_digests() -> int:
    """Send a digest for each kind+service whose window is over and that has digested alerts not
    yet reported. Returns the number of messages sent. Never raises."""
    sent = 0
    try:
        if not settings.SLACK_ALERTS_WEBHOOK_URL or channel_state().disabled_at:
            return 0
        for window in SlackWindow.objects.filter(opened_at__lte=timezone.now() - WINDOW):
            sent += _flush_one(window)
    except Exception as exc:
        logger.error("slack digest crashed: %s", type(exc).__name__)
    return sent


def _flush_one(window: SlackWindow) -> int:
    if not _unreported(window.kind, window.service):
        return 0
    won, previous = _claim_window(window.kind, window.service, timezone.now())
    if not won:
        return 0
    ids = _unreported(window.kind, window.service)  # read after winning: nobody else reports these
    try:
        post(
            digest_payload(
                kind_label=window.get_kind_display(), service=window.service, count=len(ids), since=previous
            )
        )
    except SlackError as exc:
        _fail(exc, f"digest {window.kind}/{window.service}")
        return 0
    Alert.objects.filter(pk__in=ids).update(slack_sent_at=timezone.now())
    return 1


def deliver_pending(*, limit: int = 100) -> int:
    """The worker's pass: deliver pending alerts oldest first, then flush finished digests.

    The task worker normally delivers each alert as it is recorded; this pass (`send_alerts`, from
    cron) is the safety net for alerts whose task could not be queued or whose sender died.
    """
    requeue_stale_claims()
    ids = list(
        Alert.objects.filter(slack_status=SlackStatus.PENDING)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for alert_id in ids:
        deliver(alert_id)
    return len(ids) + flush_digests()


def send_test_ping() -> PingResult:
    """Send a test message inline, once (no retries), and say what happened.

    Success re-enables a channel a permanent error had disabled; a permanent error disables it.
    """
    if not settings.SLACK_ALERTS_WEBHOOK_URL:
        return PingResult(False, "Slack is not configured: SLACK_ALERTS_WEBHOOK_URL is empty.")
    payload = {
        "text": "BiteTheMenu test ping: Slack alerts are working.",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":white_check_mark: *BiteTheMenu test ping*: Slack alerts are working.",
                },
            }
        ],
    }
    try:
        post(payload, tries=1)
    except SlackError as exc:
        return PingResult(False, f"Slack test ping failed: {_fail(exc, 'test ping')}.")
    reenabled = enable_channel()
    return PingResult(True, "Test ping delivered." + (" Slack alerts are re-enabled." if reenabled else ""))


# --- Hand-off: django.tasks (a worker delivers; nothing here runs on a request) -------------------


def enqueue(alert_id: int) -> None:
    """Hand an alert to Slack delivery, as ALERTS_DELIVERY says. Never raises (on_commit callback):
    if the task queue is unreachable the alert stays pending, and `send_alerts` (cron) sends it."""
    try:
        if settings.ALERTS_DELIVERY == "sync":
            deliver(alert_id)
            return
        from alerts import tasks

        tasks.deliver_alert.enqueue(alert_id)
    except Exception as exc:
        logger.error("slack hand-off for alert %s failed: %s", alert_id, type(exc).__name__)


def _schedule_flush(kind: str, service: str, opened_at: datetime | None) -> None:
    """When an alert was digested, nobody else would send the digest if no further alert comes:
    queue one flush for the end of the window (a deferred task), once per window per process."""
    if settings.ALERTS_DELIVERY == "sync" or opened_at is None:
        return
    from alerts import tasks

    once_key = f"alerts:digest-flush:{kind}:{service}:{opened_at.timestamp():.0f}"
    try:
        if not cache.add(once_key, 1, timeout=int(WINDOW.total_seconds()) + 60):
            return
        flush = tasks.flush_digests
        if flush.get_backend().supports_defer:
            flush = flush.using(run_after=opened_at + WINDOW + timedelta(seconds=1))
        flush.enqueue()
    except Exception as exc:  # the cron `send_alerts` flushes finished windows too
        logger.error("could not schedule the %s digest: %s", service, type(exc).__name__)
