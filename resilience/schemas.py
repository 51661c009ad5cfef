"""API schemas for providers, fallback chains and a venue's AI settings (API.md)."""

from __future__ import annotations

from typing import Literal

from ninja import Schema
from pydantic import Field

from bitethemenu.schemas import text
from resilience.chains import MAX_CANDIDATES

ServiceKind = Literal["image", "chat", "ocr", "embedding"]

# Generous caps: resilience.chains checks the real column sizes and answers per field.
Label = text(300)
ProviderId = text(100)
ModelId = text(300)
EnvKey = text(200)
BaseUrl = text(1000)
Notes = text(4000)


class ProviderModelsOut(Schema):
    image: list[str]
    chat: list[str]
    ocr: list[str]
    embedding: list[str]


class ProviderOut(Schema):
    """A provider from the registry; `base_url` is its default (after <PROVIDER>_BASE_URL)."""

    id: str
    label: str
    env_key: str
    base_url: str
    models: ProviderModelsOut


class CandidateIn(Schema):
    """One chain slot as the super admin sends it; empty env_key/base_url → the provider's defaults."""

    label: Label  # type: ignore[valid-type]
    provider: ProviderId  # type: ignore[valid-type]
    model: ModelId  # type: ignore[valid-type]
    enabled: bool = True
    env_key: EnvKey | None = ""  # type: ignore[valid-type]
    base_url: BaseUrl | None = ""  # type: ignore[valid-type]
    notes: Notes | None = ""  # type: ignore[valid-type]


class CandidateOut(Schema):
    """A saved slot. `status` is configuration readiness only (skipped: disabled, or its env key
    is not set); `skip_reason` says why ("" when ready)."""

    id: int
    priority: int
    label: str
    provider: str
    model: str
    enabled: bool
    env_key: str
    base_url: str
    notes: str
    status: Literal["ready", "skipped"]
    skip_reason: str


class ChainIn(Schema):
    candidates: list[CandidateIn] = Field(max_length=MAX_CANDIDATES)


class ChainOut(Schema):
    kind: ServiceKind
    candidates: list[CandidateOut]


class PrimaryIn(Schema):
    provider: ProviderId  # type: ignore[valid-type]
    model: ModelId  # type: ignore[valid-type]


class PrimaryOut(Schema):
    provider: str
    model: str


class AISettingsIn(Schema):
    """A kind left out is unchanged; `null` clears it (the platform chain alone then applies)."""

    image: PrimaryIn | None = None
    chat: PrimaryIn | None = None
    ocr: PrimaryIn | None = None
    embedding: PrimaryIn | None = None


class AISettingsOut(Schema):
    image: PrimaryOut | None
    chat: PrimaryOut | None
    ocr: PrimaryOut | None
    embedding: PrimaryOut | None
