"""Read-only Django admin for the resilience tables.

Chains are edited only on Super Admin → AI Fallbacks (resilience.chains.save_chain validates and
records a revision); venue primaries only through the venue's AI settings. Editing rows here
would bypass both, so these pages only look.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from bitethemenu.admin_site import ReadOnlyAdminMixin
from resilience.models import ChainCandidate, ChainRevision, VenuePrimary


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Any]):
    """Chains, revisions and primaries: shown here, changed only through their own pages."""


@admin.register(ChainCandidate)
class ChainCandidateAdmin(ReadOnlyAdmin):
    list_display = ["kind", "priority", "label", "provider", "model", "enabled", "status", "edit_link"]
    list_filter = ["kind", "provider", "enabled"]
    search_fields = ["label", "model"]
    ordering = ["kind", "priority"]

    @admin.display(description="status")
    def status(self, obj: ChainCandidate) -> str:
        from resilience.chains import CandidateSpec, skip_reason

        reason = skip_reason(CandidateSpec.from_candidate(obj))
        return f"Skipped — {reason}" if reason else "Ready"

    @admin.display(description="")
    def edit_link(self, obj: ChainCandidate) -> str:
        return format_html(
            '<a href="{}">Edit in AI Fallbacks</a>', reverse("admin:super-ai-fallbacks-kind", args=[obj.kind])
        )


@admin.register(ChainRevision)
class ChainRevisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "created_at", "saved_by", "summary"]
    list_filter = ["kind"]
    list_select_related = ["saved_by"]
    date_hierarchy = "created_at"


@admin.register(VenuePrimary)
class VenuePrimaryAdmin(ReadOnlyAdmin):
    list_display = ["venue", "kind", "provider", "model", "updated_at"]
    list_filter = ["kind", "provider"]
    list_select_related = ["venue"]
    search_fields = ["venue__name", "venue__slug"]
