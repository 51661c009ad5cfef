"""The cascade's clock for tests: time stands still until something sleeps, and sleeping is instant.

Retry waits, deadlines and KIE's polling all read `resilience.providers.base.CLOCK`, so swapping it
here makes every one of them run without real sleeps."""

from __future__ import annotations

from resilience.providers import base


class InstantClock(base.Clock):
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += max(0.0, seconds)


def install_instant_clock(monkeypatch) -> InstantClock:
    clock = InstantClock()
    monkeypatch.setattr(base, "CLOCK", clock)
    return clock
