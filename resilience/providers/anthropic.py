"""Anthropic Messages API: captions (chat) and vision OCR (images and PDFs) — PROVIDERS.md §4.

Errors: https://docs.anthropic.com/en/api/errors. A refusal is not an HTTP error: it is HTTP 200 with
`stop_reason: "refusal"` (partial text discarded). 529 `overloaded_error` is a server failure; a 429
whose `error.details.error_code` is `enforced_spend_limit_reached` is quota, not a rate limit.
"""

from __future__ import annotations

from typing import Any

from resilience.errors import Reason
from resilience.provider_costs import usage_of
from resilience.providers.base import (
    OCR_INSTRUCTION,
    Adapter,
    ProviderError,
    classify_by_status,
    malformed,
    sniff_image_mime,
)
from resilience.types import AIOutput, AIRequest

API_VERSION = "2023-06-01"
CHAT_MAX_TOKENS = 1024
OCR_MAX_TOKENS = 4096


def _document_block(request: AIRequest) -> dict[str, Any]:
    import base64

    content = request.document or b""
    mime = request.document_mime or sniff_image_mime(content) or "image/png"
    source = {"type": "base64", "media_type": mime, "data": base64.b64encode(content).decode("ascii")}
    return {"type": "document" if mime == "application/pdf" else "image", "source": source}


class AnthropicAdapter(Adapter):
    provider_id = "anthropic"

    def call(
        self, kind: str, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        if kind == "chat":
            payload: dict[str, Any] = {
                "model": model,
                "max_tokens": CHAT_MAX_TOKENS,
                "messages": [{"role": "user", "content": request.prompt}],
            }
            if request.system:
                payload["system"] = request.system
        elif kind == "ocr":
            content = [_document_block(request), {"type": "text", "text": OCR_INSTRUCTION}]
            payload = {
                "model": model,
                "max_tokens": OCR_MAX_TOKENS,
                "messages": [{"role": "user", "content": content}],
            }
        else:
            raise ProviderError(Reason.BAD_REQUEST, f"{kind} is not supported")
        headers = {"x-api-key": api_key, "anthropic-version": API_VERSION}
        response, body = self.send(
            "POST", f"{base_url}/v1/messages", timeout=timeout, api_key=api_key, headers=headers, json=payload
        )
        if not isinstance(body, dict):
            raise malformed("unexpected response shape", response.status)
        return AIOutput(
            model=str(body.get("model") or model), text=self._text(body, response.status), **usage_of(body)
        )

    def _text(self, body: Any, status: int) -> str:
        if body.get("stop_reason") == "refusal":
            details = body.get("stop_details") if isinstance(body.get("stop_details"), dict) else {}
            category = details.get("category") or "general"
            raise ProviderError(Reason.SAFETY, f"refused ({category})", status)
        blocks = body.get("content")
        if not isinstance(blocks, list):
            raise malformed("no content in the response", status)
        text = "".join(
            str(b.get("text", "")) for b in blocks if isinstance(b, dict) and b.get("type") == "text"
        )
        if not text.strip():
            raise malformed("no text block in the response", status)
        return text.strip()

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        found = body.get("error") if isinstance(body, dict) else None
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        type_ = str(error.get("type") or "")
        message = str(error.get("message") or "")
        found_details = error.get("details")
        details: dict[str, Any] = found_details if isinstance(found_details, dict) else {}
        short = f"{type_}: {message}" if type_ and message else (message or type_ or f"HTTP {status}")
        if (
            status == 402
            or type_ == "billing_error"
            or details.get("error_code") == "enforced_spend_limit_reached"
        ):
            return ProviderError(Reason.QUOTA, short, status)
        if status == 429 or type_ == "rate_limit_error":
            return ProviderError(Reason.RATE_LIMIT, short, status)
        if status == 404 or type_ == "not_found_error":
            return ProviderError(Reason.MODEL_NOT_FOUND, short, status)
        if type_ in ("authentication_error", "permission_error"):
            return ProviderError(Reason.AUTH, short, status)
        if type_ == "timeout_error":
            return ProviderError(Reason.TIMEOUT, short, status)
        if type_ in ("overloaded_error", "api_error"):
            return ProviderError(Reason.SERVER, short, status)
        return classify_by_status(status, short)
