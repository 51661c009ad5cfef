"""Super-admin pages for credits: wallets (balances), the read-only ledger and holds, and a
"Grant credits" form. Every write goes through `credits.gate.grant`; nothing here saves a model."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from bitethemenu.admin_site import ReadOnlyAdminMixin
from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from credits import gate
from credits.models import Hold, LedgerEntry, Wallet
from credits.venues import open_venue


class GrantCreditsForm(forms.Form):
    venues = forms.ModelMultipleChoiceField(
        queryset=Venue.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="Each selected venue receives the amount.",
    )
    amount = forms.IntegerField(min_value=1, max_value=gate.MAX_GRANT, help_text="Whole credits, above zero.")
    note = forms.CharField(max_length=gate.NOTE_MAX_LENGTH, required=False, help_text="Shown in the ledger.")


class AdjustCreditsForm(forms.Form):
    venue = forms.ModelChoiceField(queryset=Venue.objects.order_by("name"))
    amount = forms.IntegerField(
        min_value=-gate.MAX_GRANT,
        max_value=gate.MAX_GRANT,
        help_text="Whole credits: positive adds, negative removes. The balance never goes below zero.",
    )
    note = forms.CharField(max_length=gate.NOTE_MAX_LENGTH, help_text="Why (required, shown in the ledger).")


class OpenVenueForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=80, help_text="The venue's address in the API: letters, digits, hyphens."
    )
    credits = forms.IntegerField(
        min_value=0, max_value=gate.MAX_GRANT, initial=0, help_text="Starting credits (0 is fine)."
    )


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Any]):
    """Ledger-like tables: viewable, never added, edited or deleted through the admin."""


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["venue", "balance", "updated_at"]
    list_select_related = ["venue"]
    search_fields = ["venue__name", "venue__slug"]
    ordering = ["venue__name"]
    actions = ["grant_credits"]
    change_list_template = "admin/credits/wallet/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        grant = path("grant/", self.admin_site.admin_view(self.grant_view), name="credits_wallet_grant")
        adjust = path("adjust/", self.admin_site.admin_view(self.adjust_view), name="credits_wallet_adjust")
        opening = path("open-venue/", self.admin_site.admin_view(self.open_venue_view), name="open-venue")
        return [grant, adjust, opening, *super().get_urls()]

    @admin.action(description="Grant credits to the selected venues")
    def grant_credits(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("venue_id", flat=True))
        return HttpResponseRedirect(f"{reverse('admin:credits_wallet_grant')}?venues={ids}")

    def grant_view(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            form = GrantCreditsForm(request.POST)
            if form.is_valid() and self._grant(request, form):
                return HttpResponseRedirect(reverse("admin:credits_wallet_changelist"))
        else:
            form = GrantCreditsForm(initial={"venues": _ids(request.GET.get("venues", ""))})
        return self._form_page(request, form, title="Grant credits")

    def adjust_view(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            form = AdjustCreditsForm(request.POST)
            if form.is_valid() and self._adjust(request, form):
                return HttpResponseRedirect(reverse("admin:credits_wallet_changelist"))
        else:
            form = AdjustCreditsForm(initial={"venue": request.GET.get("venue")})
        return self._form_page(request, form, title="Adjust balance")

    def open_venue_view(self, request: HttpRequest) -> HttpResponse:
        """Venues are opened here (not with Django admin's "Add venue"): credits.venues.open_venue."""
        form = OpenVenueForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                venue = open_venue(**form.cleaned_data, by=request.user)
            except FriendlyError as exc:
                form.add_error("slug" if exc.code == "conflict" else None, exc.user_message)
            else:
                self.message_user(request, f"Opened {venue.name}. Add its members below.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:bitethemenu_venue_change", args=[venue.pk]))
        return self._form_page(request, form, title="Open a venue")

    def _form_page(self, request: HttpRequest, form: forms.Form, *, title: str) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
        }
        return TemplateResponse(request, "admin/credits/wallet/credits_form.html", context)

    def _adjust(self, request: HttpRequest, form: AdjustCreditsForm) -> bool:
        venue, amount, note = (
            form.cleaned_data["venue"],
            form.cleaned_data["amount"],
            form.cleaned_data["note"],
        )
        try:
            gate.adjust(venue=venue, amount=amount, note=note, by=request.user)
        except FriendlyError as exc:
            form.add_error(None, exc.user_message)
            return False
        self.message_user(request, f"Adjusted {venue.name} by {amount:+d} credits.", messages.SUCCESS)
        return True

    def _grant(self, request: HttpRequest, form: GrantCreditsForm) -> bool:
        venues, amount, note = (
            form.cleaned_data["venues"],
            form.cleaned_data["amount"],
            form.cleaned_data["note"],
        )
        try:
            # All or nothing: one venue failing must not leave the others half-granted.
            with transaction.atomic():
                for venue in venues:
                    gate.grant(venue=venue, amount=amount, note=note, by=request.user)
        except FriendlyError as exc:
            form.add_error(None, exc.user_message)
            return False
        names = ", ".join(v.name for v in venues)
        self.message_user(request, f"Granted {amount} credits to {names}.", messages.SUCCESS)
        return True


def _ids(raw: str) -> list[int]:
    # isdigit() is true for "²", which int() refuses: only ASCII digits, and no more than a key holds.
    return [int(part) for part in raw.split(",") if re.fullmatch(r"[0-9]{1,18}", part.strip())]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "venue", "kind", "amount", "service_kind", "request_id", "by", "note"]
    list_filter = ["kind", "service_kind", "created_at"]
    list_select_related = ["venue", "by"]
    search_fields = ["venue__name", "request_id", "note"]
    show_full_result_count = False  # the ledger grows forever; don't COUNT(*) it on every page
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "venue",
        "request_id",
        "service_kind",
        "amount",
        "status",
        "settled_at",
        "discarded_at",
    ]
    list_filter = ["status", "service_kind"]
    list_select_related = ["venue"]
    search_fields = ["venue__name", "request_id"]
    show_full_result_count = False
