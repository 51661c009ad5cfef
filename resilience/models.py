"""Fallback chains (super-admin curated) and each venue's primary per service kind."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import models
from django.utils import timezone

from bitethemenu.models import Venue
from resilience.env_keys import env_key_allowed


class ServiceKind(models.TextChoices):
    IMAGE = "image", "Image"
    CHAT = "chat", "Chat / Text"
    OCR = "ocr", "OCR"
    EMBEDDING = "embedding", "Embedding"


class ChainCandidate(models.Model):
    """One slot of a platform-wide fallback chain. Priority is 1-based and unique per kind.

    `env_key` / `base_url` empty mean the provider's defaults (resilience.registry). The key's
    value is read from the process environment at call time; it is never stored.
    """

    kind = models.CharField(max_length=16, choices=ServiceKind.choices)
    priority = models.PositiveIntegerField()
    label = models.CharField(max_length=120)
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=200)
    enabled = models.BooleanField(default=True)
    env_key = models.CharField(max_length=100, blank=True)
    base_url = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "priority"], name="one_candidate_per_priority")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.priority}: {self.label}"

    def effective_env_key(self) -> str:
        from resilience.registry import get_provider

        if self.env_key:
            return self.env_key
        provider = get_provider(self.provider)
        return provider.env_key if provider else ""

    @property
    def is_ready(self) -> bool:
        """Configuration readiness only: enabled, and its env key (if it needs one) is set."""
        if not self.enabled:
            return False
        key = self.effective_env_key()
        return not key or (env_key_allowed(key) and bool(os.environ.get(key)))


class VenuePrimary(models.Model):
    """The provider+model a venue picked for a kind in its AI settings; tried before the chain."""

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="ai_primaries")
    kind = models.CharField(max_length=16, choices=ServiceKind.choices)
    provider = models.CharField(max_length=40)
    model = models.CharField(max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "venue primaries"
        constraints = [models.UniqueConstraint(fields=["venue", "kind"], name="one_primary_per_venue_kind")]

    def __str__(self) -> str:
        return f"{self.venue} {self.kind}: {self.provider}/{self.model}"


class ChainRevision(models.Model):
    """A saved version of one kind's chain: who saved it, when, and the whole list as JSON.

    Written on every save (admin page or API) so a super admin can see history and restore.
    """

    kind = models.CharField(max_length=16, choices=ServiceKind.choices)
    candidates = (
        models.JSONField()
    )  # [{"label", "provider", "model", "enabled", "env_key", "base_url", "notes"}]
    summary = models.TextField(blank=True)  # human-readable "what changed"
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} revision {self.pk} at {self.created_at:%Y-%m-%d %H:%M}"
