"""Composer fixtures: offline simulated chains, a funded venue, and media files in a temp folder."""

from __future__ import annotations

import pytest

from credits import gate
from resilience.models import ChainCandidate
from resilience.types import SERVICE_KINDS

START_BALANCE = 100


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def chain(db):
    """chain(kind, "ok", "gone", …) replaces that kind's chain with simulated candidates."""

    def _chain(kind: str, *models: str) -> None:
        ChainCandidate.objects.filter(kind=kind).delete()
        for priority, model in enumerate(models, start=1):
            ChainCandidate.objects.create(
                kind=kind, priority=priority, label=f"Sim {model}", provider="simulated", model=model
            )

    return _chain


@pytest.fixture
def simulated(chain):
    """Every kind answered by the simulated `ok` model (offline, deterministic)."""
    for kind in SERVICE_KINDS:
        chain(kind, "ok")


@pytest.fixture
def funded(venue):
    gate.grant(venue=venue, amount=START_BALANCE, note="test credits")
    return venue
