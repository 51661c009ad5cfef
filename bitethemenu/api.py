"""The REST API root: /api/v1/ (contract: shared/API.md). Each app adds its router here."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="BiteTheMenu API", version="1", urls_namespace="api-v1")
