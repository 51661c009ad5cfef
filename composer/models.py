"""Everything a venue made with AI: the Library."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.utils import timezone

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
