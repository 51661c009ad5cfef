"""Mistral: OCR (/ocr, images and PDFs) and embeddings (PROVIDERS.md §6, §7).

Mistral's error bodies are not OpenAI's envelope: `{"detail": "Unauthorized"}` (401, also for a key
out of quota — indistinguishable), `{"message": ..., "type": "rate_limited"}` (429) and
`{"object": "error", "message": "Invalid model: x", "type": "invalid_model", "code": "1500"}` (400).
See https://docs.mistral.ai/api/ (error responses).
"""

from __future__ import annotations

from typing import Any

from resilience.errors import Reason
from resilience.provider_costs import usage_of
from resilience.providers.base import (
    Adapter,
    ProviderError,
    classify_by_status,
    data_url,
    malformed,
    sniff_image_mime,
    vectors_from,
)
from resilience.types import AIOutput, AIRequest


class MistralAdapter(Adapter):
    provider_id = "mistral"

    def call(
        self, kind: str, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        headers = {"Authorization": f"Bearer {api_key}"}
        if kind == "ocr":
            return self.ocr(
                request, model=model, base_url=base_url, api_key=api_key, headers=headers, timeout=timeout
            )
        if kind == "embedding":
            response, body = self.send(
                "POST",
                f"{base_url}/embeddings",
                timeout=timeout,
                api_key=api_key,
                headers=headers,
                json={"model": model, "input": list(request.inputs)},
            )
            data = body.get("data") if isinstance(body, dict) else None
            return AIOutput(
                model=model,
                vectors=vectors_from(data, count=len(request.inputs), status_code=response.status),
                **usage_of(body),
            )
        raise ProviderError(Reason.BAD_REQUEST, f"{kind} is not supported")

    def ocr(
        self,
        request: AIRequest,
        *,
        model: str,
        base_url: str,
        api_key: str,
        headers: dict[str, str],
        timeout: float,
    ) -> AIOutput:
        content = request.document or b""
        mime = request.document_mime or sniff_image_mime(content) or "image/png"
        if mime == "application/pdf":
            document = {"type": "document_url", "document_url": data_url(content, mime)}
        else:
            document = {"type": "image_url", "image_url": data_url(content, mime)}
        response, body = self.send(
            "POST",
            f"{base_url}/ocr",
            timeout=timeout,
            api_key=api_key,
            headers=headers,
            json={"model": model, "document": document},
        )
        pages = body.get("pages") if isinstance(body, dict) else None
        if not isinstance(pages, list) or not pages:
            raise malformed("no pages in the response", response.status)
        text = "\n\n".join(
            str(page.get("markdown") or "") for page in pages if isinstance(page, dict)
        ).strip()
        if not text:
            raise malformed("no text found", response.status)
        return AIOutput(model=str(body.get("model") or model), text=text, images=_pages_processed(body))

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        body = body if isinstance(body, dict) else {}
        message = (
            body.get("message") if isinstance(body.get("message"), str) else str(body.get("detail") or "")
        )
        if isinstance(body.get("message"), dict):  # 422: {"message": {"detail": [...]}}
            message = "invalid parameters"
        type_ = str(body.get("type") or "")
        short = message or f"HTTP {status}"
        if status == 429 or type_ == "rate_limited":
            return ProviderError(Reason.RATE_LIMIT, short, status)
        if type_ == "invalid_model" or message.lower().startswith("invalid model"):
            return ProviderError(Reason.MODEL_NOT_FOUND, short, status)
        return classify_by_status(status, short)


def _pages_processed(body: dict[str, Any]) -> int | None:
    """`usage_info.pages_processed` (Mistral OCR bills per page; the cost basis counts pages as images)."""
    info = body.get("usage_info")
    pages = info.get("pages_processed") if isinstance(info, dict) else None
    return pages if isinstance(pages, int) and not isinstance(pages, bool) and pages >= 0 else None
