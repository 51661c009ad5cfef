"""Alerts: one row per exhausted fallback chain, its per-attempt audit, and Slack delivery state.

Writes go through `alerts.record` (recording, acknowledging) and `alerts.notify` (Slack); views and
commands never save these rows directly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from alerts.attempts import leg_summary


class Kind(models.TextChoices):
    IMAGE = "image", "Image"
    CHAT = "chat", "Chat"
    OCR = "ocr", "OCR"
    EMBEDDING = "embedding", "Embedding"


class SlackStatus(models.TextChoices):
    NOT_CONFIGURED = "not_configured", "Not configured"
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DIGESTED = "digested", "In digest"
    SUPPRESSED = "suppressed", "Slack disabled"


class AlertQuerySet(models.QuerySet["Alert"]):
    def unacknowledged(self) -> AlertQuerySet:
        return self.filter(acknowledged_at__isnull=True)


class Alert(models.Model):
    """A whole fallback chain failed for one request.

    Invariants: `last_error` is the summary of the last failed attempt ("label → reason (status):
    message"), short and secret-free; `acknowledged_at` and `acknowledged_by` are set together,
    once (acknowledging is a conditional update on `acknowledged_at IS NULL`); `slack_status`
    moves pending → sending → sent | failed | digested | suppressed, and only the process that
    won the pending → sending update may send.
    """

    kind = models.CharField(max_length=20, choices=Kind.choices)
    service = models.CharField(max_length=100)
    venue = models.ForeignKey(
        "bitethemenu.Venue", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    request_id = models.CharField(max_length=100, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    slack_status = models.CharField(
        max_length=20, choices=SlackStatus.choices, default=SlackStatus.NOT_CONFIGURED
    )
    slack_error = models.CharField(max_length=200, blank=True, default="")
    slack_sent_at = models.DateTimeField(null=True, blank=True)
    # When a sender claimed it (pending → sending): a claim older than notify.STALE_CLAIM belongs to a
    # process that died mid-send, and the worker puts the alert back to pending.
    slack_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="alert_newest"),
            # The badge count and the "unacknowledged" filter read only the open rows.
            models.Index(
                fields=["created_at"], name="alert_unack", condition=models.Q(acknowledged_at__isnull=True)
            ),
            models.Index(fields=["slack_status"], name="alert_slack_status"),
            models.Index(fields=["kind", "service", "slack_status"], name="alert_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.service} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class AlertAttempt(models.Model):
    """One leg of the exhausted chain, in the order the cascade tried them (`position` from 0)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="attempts")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)
    provider = models.CharField(max_length=50)
    model = models.CharField(max_length=200)
    outcome = models.CharField(max_length=20)
    reason = models.CharField(max_length=40, blank=True, default="")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    # Usage and estimated provider cost (USD) when the attempt reported usage; null = unknown.
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    images = models.PositiveIntegerField(null=True, blank=True)
    cost_usd = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["alert", "position"], name="one_attempt_per_position")]

    def __str__(self) -> str:
        return f"{self.label} → {self.reason or self.outcome}"

    @property
    def summary(self) -> str:
        """The same wording as the alert's summary line (alerts.attempts.leg_summary)."""
        return leg_summary(self)

    @property
    def result(self) -> str:
        """What went wrong, as the inbox shows it: "404 model_not_found", "safety", "skipped"."""
        # A 2xx that still failed (a safety refusal inside a 200) says nothing: show the reason only.
        shown = self.status_code is not None and not 200 <= self.status_code < 300
        parts = [str(self.status_code)] if shown else []
        parts.append(self.reason or self.outcome)
        return " ".join(parts)


class SlackChannelState(models.Model):
    """The Slack channel's on/off switch (a single row, pk=1).

    A permanent error from the webhook (404, 410, 403, 400 invalid_token) disables delivery so we
    stop hammering a dead URL; a super admin re-enables it (a successful test ping does too).
    """

    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Slack disabled: {self.disabled_reason}" if self.disabled_at else "Slack enabled"


class SlackWindow(models.Model):
    """The digest window per kind+service: at most one Slack message each WINDOW.

    `opened_at` is moved forward only by a compare-and-swap update, so exactly one sender wins a
    window even with several threads or workers.
    """

    kind = models.CharField(max_length=20, choices=Kind.choices)
    service = models.CharField(max_length=100)
    opened_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "service"], name="one_window_per_service")]

    def __str__(self) -> str:
        return f"{self.kind}/{self.service} since {self.opened_at:%H:%M}"
