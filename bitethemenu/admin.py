from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from bitethemenu.models import ApiKey, Membership, Venue


class MembershipInline(admin.TabularInline[Membership, Venue]):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin[Venue]):
    """Venues are renamed and staffed here. They are opened (with their starting credits) only by
    credits.venues.open_venue — its admin page is Credits → Wallets → "Open a venue" — so "Add" is off."""

    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["slug", "created_at"]  # the slug is the venue's address in the API
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "venue", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "venue"]
    raw_id_fields = ["user", "venue"]
    search_fields = ["user__username", "venue__name"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Mint, look at and revoke API keys. A new key's secret is shown once, on the page the add form
    answers with (never in a message: messages travel in a cookie, signed but readable). Who a key
    belongs to is fixed when it is minted, and revocation is final: a revoked key is read-only."""

    list_display = ["prefix", "name", "owner", "venue", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["owner", "venue"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    raw_id_fields = ["owner", "venue"]
    fields = ["name", "owner", "venue", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> list[str]:
        fixed = ["prefix", "created_at", "last_used_at", "revoked_at"]  # revoked only by the action
        return fixed if obj is None else ["owner", "venue", *fixed]

    def has_change_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        if obj is not None and obj.is_revoked:
            return False  # final: not renamed, re-owned or un-revoked
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new key: mint it so only the hash is stored; the secret lives on this request only.
        key, raw = ApiKey.mint(owner=obj.owner, venue=obj.venue, name=obj.name)
        obj.pk = key.pk
        obj.prefix, obj.hashed_secret, obj.created_at = key.prefix, key.hashed_secret, key.created_at
        request._minted_api_key = raw  # type: ignore[attr-defined]

    def response_add(
        self, request: HttpRequest, obj: ApiKey, post_url_continue: str | None = None
    ) -> HttpResponse:
        """The minted key, shown once on the answer to the add form itself (not after a redirect,
        which would need the secret stored somewhere until the next page)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "New API key",
            "key": obj,
            "raw_key": request._minted_api_key,  # type: ignore[attr-defined]
        }
        response = TemplateResponse(request, "admin/bitethemenu/apikey/minted.html", context)
        add_never_cache_headers(response)
        return response

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s)")
