"""Everything a venue made with AI: the Library."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils import timezone

from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue

# The only extensions a stored image gets (composer.uploads / image_problem accept these types alone).
IMAGE_EXTENSIONS = {".png", ".jpg", ".webp"}


def asset_file_name(instance: Asset, filename: str) -> str:
    """Where an asset's image is stored, chosen by the server: a random name (never the caller's
    Idempotency-Key or any other client text), keeping only a known image extension. Files are
    served only by composer.views.library.asset_file, to members of the asset's venue."""
    suffix = PurePosixPath(filename).suffix.lower()
    extension = suffix if suffix in IMAGE_EXTENSIONS else ".png"
    return timezone.now().strftime("assets/%Y/%m/") + uuid.uuid4().hex + extension


class Asset(models.Model):
    """A successful AI output. Never records which provider or chain leg answered (the venue
    never learns it); that lives only in the super admin's audit."""

    class Kind(models.TextChoices):
        IMAGE = "image", "Image"
        TEXT = "text", "Text"
        OCR = "ocr", "Menu text"

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="assets")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    prompt = models.TextField(blank=True)
    style = models.CharField(max_length=60, blank=True)
    text = models.TextField(blank=True)
    image = models.FileField(upload_to=asset_file_name, blank=True)
    image_mime = models.CharField(max_length=40, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="versions"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Archived (a soft delete): out of the Library and search, restorable from "Archived" (None: in the Library).
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["venue", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} for {self.venue}"

    def title_for_edit(self, instruction: str) -> str:
        """An edited version's title: this one's plus what changed, so a search for the dish finds both."""
        original = self.prompt.split(" — edit: ")[0].strip()  # an edit of an edit keeps the dish, not a chain
        return f"{original} — edit: {instruction}" if original else instruction

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class AssetEmbedding(models.Model):
    """A vector for an asset, with the model that made it: vectors compare only within one model."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="embeddings")
    model = models.CharField(max_length=200)
    vector = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "model"], name="one_vector_per_asset_model")]

    def __str__(self) -> str:
        return f"{self.model} vector for asset #{self.asset_id}"


class Job(models.Model):
    """One paid AI call running on a task worker: what the venue asked for, where it is, and how
    it ended. The credit gate's hold spans it (charged when queued, captured or refunded when it
    ends); `request_id` is the gate's idempotency key. `stage` is venue copy ("Trying a backup…"):
    it never says which lab answered."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=16)  # the service kind: image, chat, ocr, embedding
    service = models.CharField(max_length=40)  # social.generateImage, editor.editImage, …
    request_id = models.CharField(max_length=64)
    params = models.JSONField(default=dict)  # prompt, style, tone, asset id, … (never a file)
    upload = models.FileField(
        upload_to="job-inputs/", blank=True
    )  # a reference photo or a menu, until it ran
    upload_mime = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=120, blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its user was first shown how it ended (the result or the amber banner) in a panel: a job
    # that ended unseen — the user had left the page — is shown on their next visit (jobs.panel_jobs).
    seen_at = models.DateTimeField(null=True, blank=True)
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    output = models.JSONField(null=True, blank=True)  # what the call returned when it is not an asset
    credits_charged = models.IntegerField(default=0)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    error_detail = models.TextField(blank=True)
    error_status = models.PositiveSmallIntegerField(default=0)  # the HTTP status the API answers with

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["venue", "request_id"], name="one_job_per_request")]
        indexes = [models.Index(fields=["venue", "status", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.service} job #{self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def prompt_preview(self) -> str:
        return str(self.params.get("prompt") or self.params.get("instruction") or "")

    @property
    def error(self) -> FriendlyError | None:
        """The calm error a failed job keeps: the amber banner, the API's error body."""
        if self.status != self.Status.FAILED:
            return None
        return FriendlyError(
            self.error_code or "ai_unavailable",
            self.error_message,
            self.error_detail,
            http_status=self.error_status or 503,
            request_id=self.request_id,
        )

    @property
    def elapsed_seconds(self) -> int:
        """Seconds since it was asked for, until it ended (what the venue's progress line shows)."""
        end = self.finished_at or timezone.now()
        return max(0, int((end - self.created_at).total_seconds()))
