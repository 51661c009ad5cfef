"""Platform core: venues, who belongs to them, and API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone


class Venue(models.Model):
    """A restaurant or bar: the tenant. Every asset, credit and setting belongs to one venue."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's seat at a venue. Access to venue data is decided by this row alone."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "venue"], name="one_membership_per_venue")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.venue} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True, owner__is_active=True)


class ApiKey(models.Model):
    """A bearer key for /api/v1/. Only a SHA-256 of the secret is stored; the key is shown once.

    With a venue, the key acts for that venue only (its owner must be a member, or a superuser).
    Without one, it is a superuser's platform key: the only kind allowed on /api/v1/admin/.
    """

    PREFIX = "btm_"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, db_index=True, editable=False)
    hashed_secret = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.owner})"

    @staticmethod
    def hash(raw_key: str) -> str:
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def mint(cls, *, owner: User, venue: Venue | None = None, name: str = "") -> tuple[ApiKey, str]:
        """Create a key and return it with its raw secret (the only time the secret exists)."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            owner=owner, venue=venue, name=name, prefix=raw[:12], hashed_secret=cls.hash(raw)
        )
        return key, raw

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
