from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from bitethemenu.models import ApiKey, Membership, Venue


class MembershipInline(admin.TabularInline[Membership, Venue]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin[Venue]):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "venue", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "venue"]
    raw_id_fields = ["user", "venue"]
    search_fields = ["user__username", "venue__name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ["prefix", "name", "owner", "venue", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["owner", "venue"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["owner", "venue"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "owner", "venue", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new key: mint it so only the hash is stored, and show the secret exactly once.
        key, raw = ApiKey.mint(owner=obj.owner, venue=obj.venue, name=obj.name)
        obj.pk = key.pk
        obj.prefix, obj.hashed_secret, obj.created_at = key.prefix, key.hashed_secret, key.created_at
        self.message_user(
            request, f"New API key (copy it now, it is shown only once): {raw}", messages.WARNING
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s)")
