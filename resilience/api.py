"""Providers, fallback chains (super admin) and a venue's AI settings over the API.

Handlers are thin: resolve access, call resilience.chains / resilience.primaries, return.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from bitethemenu.api_auth import venue_for_key
from bitethemenu.models import Venue
from bitethemenu.schemas import error_responses
from resilience.chains import (
    CandidateSpec,
    display_base_url,
    load_chain,
    reset_chain,
    save_chain,
    skip_reason,
)
from resilience.models import ChainCandidate
from resilience.primaries import primaries_for, save_primaries
from resilience.registry import ProviderSpec, available_providers, default_base_url
from resilience.schemas import (
    AISettingsIn,
    AISettingsOut,
    CandidateIn,
    ChainIn,
    ChainOut,
    ProviderOut,
    ServiceKind,
)
from resilience.types import SERVICE_KINDS

router = Router(tags=["AI settings"])
admin_router = Router(tags=["admin: providers and chains"])


def _provider_out(spec: ProviderSpec) -> dict[str, Any]:
    models = {kind: spec.models_for(kind) for kind in SERVICE_KINDS}
    return {
        "id": spec.id,
        "label": spec.label,
        "env_key": spec.env_key,
        "base_url": display_base_url(default_base_url(spec.id)),
        "models": models,
    }


def _candidate_out(candidate: ChainCandidate) -> dict[str, Any]:
    reason = skip_reason(CandidateSpec.from_candidate(candidate))
    return {
        "id": candidate.pk,
        "priority": candidate.priority,
        "label": candidate.label,
        "provider": candidate.provider,
        "model": candidate.model,
        "enabled": candidate.enabled,
        "env_key": candidate.env_key,
        "base_url": candidate.base_url,
        "notes": candidate.notes,
        "status": "skipped" if reason else "ready",
        "skip_reason": reason,
    }


def _spec(candidate: CandidateIn) -> CandidateSpec:
    return CandidateSpec(
        label=candidate.label,
        provider=candidate.provider,
        model=candidate.model,
        enabled=candidate.enabled,
        env_key=candidate.env_key or "",
        base_url=candidate.base_url or "",
        notes=candidate.notes or "",
    )


def _chain_out(kind: str, candidates: list[ChainCandidate]) -> dict[str, Any]:
    return {"kind": kind, "candidates": [_candidate_out(c) for c in candidates]}


def _settings_out(venue: Venue) -> dict[str, Any]:
    return {
        kind: {"provider": row.provider, "model": row.model} if row else None
        for kind, row in primaries_for(venue).items()
    }


def _choices(payload: AISettingsIn) -> dict[str, tuple[str, str] | None]:
    """The kinds the body names (a kind left out is unchanged), each a (provider, model) or None."""
    choices: dict[str, tuple[str, str] | None] = {}
    for kind in SERVICE_KINDS:
        if kind in payload.model_fields_set:
            choice = getattr(payload, kind)
            choices[kind] = None if choice is None else (choice.provider, choice.model)
    return choices


# --- Venue: AI settings -----------------------------------------------------------------------


@router.get("/{slug}/ai-settings", response={200: AISettingsOut, **error_responses()})
def get_ai_settings(request: HttpRequest, slug: str) -> dict[str, Any]:
    """The venue's primary provider+model for each of the four kinds (null: platform default)."""
    venue = venue_for_key(request, slug)
    return _settings_out(venue)


@router.put("/{slug}/ai-settings", response={200: AISettingsOut, **error_responses()})
def put_ai_settings(request: HttpRequest, slug: str, payload: AISettingsIn) -> dict[str, Any]:
    """Change some kinds' primaries, all or nothing (422 names the refused kinds); returns all four."""
    venue = venue_for_key(request, slug)
    save_primaries(venue=venue, choices=_choices(payload))
    return _settings_out(venue)


# --- Super admin: providers and chains --------------------------------------------------------


@admin_router.get("/providers", response={200: list[ProviderOut], **error_responses()})
def list_providers(request: HttpRequest) -> list[dict[str, Any]]:
    """Every provider a super admin may pick, with its defaults and known models per kind."""
    return [_provider_out(spec) for spec in available_providers()]


@admin_router.get("/chains/{kind}", response={200: ChainOut, **error_responses()})
def get_chain(request: HttpRequest, kind: ServiceKind) -> dict[str, Any]:
    """The kind's chain in priority order."""
    return _chain_out(kind, load_chain(kind))


@admin_router.put("/chains/{kind}", response={200: ChainOut, **error_responses()})
def put_chain(request: HttpRequest, kind: ServiceKind, payload: ChainIn) -> dict[str, Any]:
    """Replace the whole chain atomically (list order is priority). 422 when any card is invalid."""
    specs = [_spec(candidate) for candidate in payload.candidates]
    return _chain_out(kind, save_chain(kind=kind, specs=specs, user=request.user))


@admin_router.post("/chains/{kind}/reset", response={200: ChainOut, **error_responses()})
def reset(request: HttpRequest, kind: ServiceKind) -> dict[str, Any]:
    """Restore the kind's seeded default chain."""
    return _chain_out(kind, reset_chain(kind, user=request.user))
