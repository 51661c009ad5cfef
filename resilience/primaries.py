"""Each venue's primary provider+model per service kind (AI settings), tried before the chain.

`save_primaries` is the one write path: the AI settings page, the API's PUT /ai-settings and the
demo seed all call it (directly or through `set_primary` / `clear_primary`).
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from bitethemenu.errors import FriendlyError, InvalidInput
from bitethemenu.models import Venue
from resilience import pricing
from resilience.models import VenuePrimary
from resilience.registry import available_providers
from resilience.types import SERVICE_KINDS
from resilience.validation import clean_model_id

# Per kind: a (provider, model) primary, or None for the platform default (the chain alone).
Choice = tuple[str, str] | None


class PrimariesInvalid(InvalidInput):
    """Some kinds were refused; nothing was saved. `errors`: the calm message per refused kind."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        first = next(iter(errors.values()))
        detail = "; ".join(f"{kind}: {message}" for kind, message in errors.items())
        super().__init__(first if len(errors) == 1 else f"{first} (and {len(errors) - 1} more)", detail)


def _clean(*, kind: str, provider: str, model: str) -> str:
    """The model id to store, or InvalidInput naming what is wrong with this kind's choice."""
    if kind not in SERVICE_KINDS:
        raise InvalidInput(f"Unknown service kind “{kind}”.")
    spec = next((p for p in available_providers() if p.id == provider), None)
    if spec is None:
        raise InvalidInput(f"Unknown provider “{provider}”.")
    if not spec.supports(kind):
        raise InvalidInput(f"{spec.label} does not offer {kind}.")
    model = clean_model_id(model)
    # A venue picks among priced models only (the registry's, or ones the super admin typed into a
    # chain): an arbitrary id would run a premium model at the flat price.
    if not pricing.is_approved(kind, provider, model):
        raise InvalidInput(
            "Pick one of the models in the list.", f"model {model!r} is not approved for {kind}"
        )
    return model


def _cleaned_choices(choices: Mapping[str, Choice]) -> dict[str, Choice]:
    cleaned: dict[str, Choice] = {}
    errors: dict[str, str] = {}
    for kind, choice in choices.items():
        try:
            if choice is None:
                if kind not in SERVICE_KINDS:
                    raise InvalidInput(f"Unknown service kind “{kind}”.")
                cleaned[kind] = None
            else:
                cleaned[kind] = (choice[0], _clean(kind=kind, provider=choice[0], model=choice[1]))
        except FriendlyError as error:
            errors[kind] = error.user_message
    if errors:
        raise PrimariesInvalid(errors)
    return cleaned


@transaction.atomic
def save_primaries(*, venue: Venue, choices: Mapping[str, Choice]) -> None:
    """Apply the venue's AI settings, all or nothing: per kind in `choices` a (provider, model)
    primary or None (cleared: the platform chain alone applies); kinds left out are unchanged.

    Raises `PrimariesInvalid` (an InvalidInput, 422; `.errors` by kind) for an unknown kind, a provider
    that is unknown, hidden (`simulated` when disabled) or lacks the kind, a model id that is empty,
    over 200 characters or holds spaces or control characters, or a model no one approved: only the
    registry's models and ids the super admin typed into a chain row of this kind
    (`resilience.pricing.is_approved`) — each has a price. Nothing is changed then.
    """
    for kind, choice in _cleaned_choices(choices).items():
        if choice is None:
            VenuePrimary.objects.filter(venue=venue, kind=kind).delete()
        else:
            VenuePrimary.objects.update_or_create(
                venue=venue, kind=kind, defaults={"provider": choice[0], "model": choice[1]}
            )


def set_primary(*, venue: Venue, kind: str, provider: str, model: str) -> VenuePrimary:
    """Set (create or replace) the venue's primary for one kind: `save_primaries` for one kind."""
    save_primaries(venue=venue, choices={kind: (provider, model)})
    return VenuePrimary.objects.get(venue=venue, kind=kind)


def clear_primary(*, venue: Venue, kind: str) -> None:
    """Remove the venue's primary for `kind` (the platform chain alone then applies). No-op if unset."""
    save_primaries(venue=venue, choices={kind: None})


def primaries_for(venue: Venue) -> dict[str, VenuePrimary | None]:
    """All four kinds, in SERVICE_KINDS order, each with the venue's primary or None. One query."""
    rows = {row.kind: row for row in VenuePrimary.objects.filter(venue=venue)}
    return {kind: rows.get(kind) for kind in SERVICE_KINDS}
