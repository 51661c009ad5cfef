"""Credits: a cached wallet per venue, an append-only ledger, and the holds the gate takes.

Invariants (checked by `manage.py check_ledger`):
- a wallet's balance equals the sum of its venue's ledger entries, and is never below zero;
- ledger rows are never updated or deleted: a refund is a new, compensating entry;
- per venue and request id there is at most one charge and at most one refund (the database
  enforces both with conditional unique constraints, so a racing second refund fails there).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bitethemenu.models import Venue

REQUEST_ID_MAX_LENGTH = 64


class Wallet(models.Model):
    """A venue's cached balance. Changed only by `credits.gate`, always in the same transaction
    as the ledger entry that explains the change, with a guarded UPDATE (row-locked on
    PostgreSQL; on SQLite the IMMEDIATE transaction mode serialises writers)."""

    venue = models.OneToOneField(Venue, on_delete=models.CASCADE, related_name="wallet")
    balance = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="credits_wallet_never_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.venue}: {self.balance} credits"


class LedgerEntry(models.Model):
    """One change to a venue's credits. Append-only: never updated, never deleted.

    `amount` is signed (grants and refunds positive, charges negative, adjustments either way).
    A refund points at the charge it `reverses` and carries the same `request_id`.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", "Grant"
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="ledger_entries")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.BigIntegerField()
    service_kind = models.CharField(max_length=16, blank=True)  # image/chat/ocr/embedding for charges
    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH, blank=True)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["venue", "-created_at", "-id"], name="credits_ledger_venue_recent")]
        constraints = [
            models.UniqueConstraint(
                fields=["venue", "request_id"],
                condition=Q(kind="charge"),
                name="credits_one_charge_per_request",
            ),
            models.UniqueConstraint(
                fields=["venue", "request_id"],
                condition=Q(kind="refund"),
                name="credits_one_refund_per_request",
            ),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(kind="refund"), name="credits_one_refund_per_charge"
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["charge", "refund"]) | ~Q(request_id=""),
                name="credits_charge_refund_have_request_id",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="adjustment", amount__lt=0)
                    | Q(kind="adjustment", amount__gt=0)
                    | Q(kind="charge", amount__lt=0)
                    | Q(kind__in=["grant", "refund"], amount__gt=0)
                ),
                name="credits_entry_sign_matches_kind",
            ),
        ]

    # What a venue's owner reads on the Credits page for each service kind.
    SERVICE_LABELS = {"image": "Image", "chat": "Caption / text", "ocr": "Menu import", "embedding": "Search"}

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d} for {self.venue}"

    @property
    def service_label(self) -> str:
        return self.SERVICE_LABELS.get(self.service_kind, self.service_kind)


class Hold(models.Model):
    """The state of one paid call: pending until it succeeds (captured) or fails (refunded).

    Mutable on purpose, so the ledger can stay append-only. Moves only PENDING → CAPTURED or
    PENDING → REFUNDED, each with a conditional UPDATE whose row count says who won the race.
    Every call has one, free ones too (`amount` 0, no `charge` entry): the unique request id is
    what makes an Idempotency-Key hold whatever the price, and today's free holds are how the
    gate meters a daily free allowance. `discarded_at`: the call finished after the hold had been
    refunded (the reconciler gave up on it), so its result was thrown away, never delivered free.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CAPTURED = "captured", "Captured"
        REFUNDED = "refunded", "Refunded"

    venue = models.ForeignKey(Venue, on_delete=models.CASCADE, related_name="credit_holds")
    request_id = models.CharField(max_length=REQUEST_ID_MAX_LENGTH)
    charge = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="hold"
    )  # None for a free call
    service_kind = models.CharField(max_length=16, blank=True)
    amount = models.BigIntegerField()  # the cost held: positive, or 0 for a free call
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["venue", "request_id"], name="credits_one_hold_per_request"),
            models.CheckConstraint(
                condition=Q(amount=0, charge__isnull=True) | Q(amount__gt=0, charge__isnull=False),
                name="credits_hold_paid_iff_charged",
            ),
        ]
        indexes = [
            # The reconciler's question: pending holds older than the TTL.
            models.Index(fields=["created_at"], condition=Q(status="pending"), name="credits_pending_holds"),
            # The free allowance's question: this venue's free calls of a kind today.
            models.Index(
                fields=["venue", "service_kind", "created_at"],
                condition=Q(amount=0),
                name="credits_free_holds",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold {self.request_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
