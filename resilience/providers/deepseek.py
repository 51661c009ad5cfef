"""DeepSeek direct: OpenAI-shaped chat completions (PROVIDERS.md §5).

Error codes: https://api-docs.deepseek.com/quick_start/error_codes. Two bodies are not in that table
and are matched on their text: "Content Exists Risk" (a safety refusal, HTTP 400) and "Model Not Exist"
(HTTP 400; a retired alias may also answer 404).
"""

from __future__ import annotations

from typing import Any

from resilience.errors import Reason
from resilience.providers.base import ProviderError, classify_by_status, error_fields
from resilience.providers.openai import OpenAIShaped


class DeepSeekAdapter(OpenAIShaped):
    provider_id = "deepseek"

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        _, _, message, _ = error_fields(body)
        lowered = message.lower()
        short = message or f"HTTP {status}"
        if "content exists risk" in lowered:
            return ProviderError(Reason.SAFETY, short, status)
        if status == 402 or "insufficient balance" in lowered:
            return ProviderError(Reason.QUOTA, short, status)
        if status == 429:
            return ProviderError(Reason.RATE_LIMIT, short, status)
        if "model not exist" in lowered:
            return ProviderError(Reason.MODEL_NOT_FOUND, short, status)
        return classify_by_status(status, short)
