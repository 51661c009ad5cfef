"""Each venue's primary provider+model per service kind (AI settings), tried before the chain."""

from __future__ import annotations

from bitethemenu.errors import InvalidInput
from bitethemenu.models import Venue
from resilience import pricing
from resilience.models import VenuePrimary
from resilience.registry import available_providers
from resilience.types import SERVICE_KINDS


def _validate(*, kind: str, provider: str, model: str) -> None:
    if kind not in SERVICE_KINDS:
        raise InvalidInput(f"Unknown service kind “{kind}”.")
    spec = next((p for p in available_providers() if p.id == provider), None)
    if spec is None:
        raise InvalidInput(f"Unknown provider “{provider}”.")
    if not spec.supports(kind):
        raise InvalidInput(f"{spec.label} does not offer {kind}.")
    if not model.strip():
        raise InvalidInput("Pick a model.")


def _check_approved(*, kind: str, provider: str, model: str) -> None:
    # A venue picks among priced models only (the registry's, or ones the super admin typed into a
    # chain): an arbitrary id would run a premium model at the flat price.
    if not pricing.is_approved(kind, provider, model):
        raise InvalidInput(
            "Pick one of the models in the list.", f"model {model[:200]!r} is not approved for {kind}"
        )


def set_primary(*, venue: Venue, kind: str, provider: str, model: str) -> VenuePrimary:
    """Set (create or replace) the venue's primary for `kind`. Idempotent.

    Raises FriendlyError `invalid_input` (422) for an unknown kind, a provider that is unknown, hidden
    (`simulated` when disabled) or lacks the kind, an empty model, or a model no one approved: only
    the registry's models and ids the super admin typed into a chain row of this kind
    (`resilience.pricing.is_approved`) — each has a price.
    """
    model = model.strip()
    _validate(kind=kind, provider=provider, model=model)
    _check_approved(kind=kind, provider=provider, model=model)
    primary, _ = VenuePrimary.objects.update_or_create(
        venue=venue, kind=kind, defaults={"provider": provider, "model": model}
    )
    return primary


def clear_primary(*, venue: Venue, kind: str) -> None:
    """Remove the venue's primary for `kind` (the platform chain alone then applies). No-op if unset."""
    VenuePrimary.objects.filter(venue=venue, kind=kind).delete()


def primaries_for(venue: Venue) -> dict[str, VenuePrimary | None]:
    """All four kinds, in SERVICE_KINDS order, each with the venue's primary or None. One query."""
    rows = {row.kind: row for row in VenuePrimary.objects.filter(venue=venue)}
    return {kind: rows.get(kind) for kind in SERVICE_KINDS}
