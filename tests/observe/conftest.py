"""Fixtures for observability: the instant clock, chains from rows, a fixed recording time."""

from __future__ import annotations

import pytest

from observe import record
from tests.clocks import InstantClock, install_instant_clock
from tests.resilience.conftest import chain, exhaustions  # noqa: F401 (re-exported fixtures)

# 2026-11-30 12:02:30 UTC: inside the 12:00 5-minute bucket and the 12:00 hour.
FIXED_NOW = 1_796_040_150.0


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> InstantClock:
    return install_instant_clock(monkeypatch)


@pytest.fixture(autouse=True)
def fixed_time(monkeypatch):
    monkeypatch.setattr(record, "now", lambda: FIXED_NOW)
    record.discard_buffer()
    yield FIXED_NOW
    record.discard_buffer()
