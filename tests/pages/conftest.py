"""The venue pages' fixtures are the composer's: offline simulated chains, a funded venue, temp media."""

from tests.composer.conftest import _media, chain, funded, simulated  # noqa: F401
