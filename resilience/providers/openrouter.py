"""OpenRouter: OpenAI-shaped chat, vision OCR and embeddings; images through chat completions with
`modalities: ["image", "text"]` (PROVIDERS.md §3).

Errors: https://openrouter.ai/docs/api-reference/errors — request errors carry HTTP status ==
`error.code`; once generation started they come back as HTTP 200 with `error` in the body.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from resilience.errors import Reason
from resilience.provider_costs import usage_of
from resilience.providers.base import (
    ProviderError,
    classify_by_status,
    data_url,
    decode_data_url,
    error_fields,
    image_answer_max_bytes,
    image_prompt,
    malformed,
    sniff_image_mime,
)
from resilience.providers.openai import OpenAIShaped
from resilience.types import AIOutput, AIRequest


class OpenRouterAdapter(OpenAIShaped):
    provider_id = "openrouter"

    def headers(self, api_key: str) -> dict[str, str]:
        # Optional app attribution (https://openrouter.ai/docs/app-attribution): X-OpenRouter-Title is
        # the current name of the header (X-Title is its legacy alias), HTTP-Referer the app's URL.
        return {
            **super().headers(api_key),
            "HTTP-Referer": settings.AI_APP_URL,
            "X-OpenRouter-Title": "BiteTheMenu",
        }

    def image(
        self, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        content: list[dict[str, Any]] = [{"type": "text", "text": image_prompt(request)}]
        if request.has_reference:
            mime = request.reference_mime or sniff_image_mime(request.reference_image or b"") or "image/png"
            content.append(
                {"type": "image_url", "image_url": {"url": data_url(request.reference_image or b"", mime)}}
            )
        payload = {
            "model": model,
            "messages": [{"role": "user", "content": content}],
            "modalities": ["image", "text"],
        }
        response, body = self.send(
            "POST",
            f"{base_url}/chat/completions",
            timeout=timeout,
            api_key=api_key,
            headers=self.headers(api_key),
            max_bytes=image_answer_max_bytes(),
            json=payload,
        )
        self.raise_body_error(body, response.status, api_key)
        image = _first_image(body, status=response.status)
        return AIOutput(
            model=str(body.get("model") or model),
            image=image,
            image_mime=sniff_image_mime(image),
            images=1,
            **usage_of(body),
        )

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        """§8 order: safety (403 with moderation reasons) before auth; quota (402, or 403 "Key limit
        exceeded") before the 403 → auth rule; a bad model id is 400 or 404."""
        _, _, message, error = error_fields(body)
        metadata = error.get("metadata") if isinstance(error, dict) else None
        metadata = metadata if isinstance(metadata, dict) else {}
        lowered = message.lower()
        short = message or f"HTTP {status}"
        if isinstance(metadata.get("raw"), str) and metadata["raw"]:
            short = f"{short}: {metadata['raw']}"
        if status == 403 and (
            metadata.get("reasons") or "requires moderation" in lowered or "flagged for" in lowered
        ):
            return ProviderError(Reason.SAFETY, short, status)
        if status == 402 or (status == 403 and "key limit exceeded" in lowered):
            return ProviderError(Reason.QUOTA, short, status)
        if status == 429:
            return ProviderError(Reason.RATE_LIMIT, short, status)
        if status == 524:  # Cloudflare "a timeout occurred": the upstream model did not answer in time
            return ProviderError(Reason.TIMEOUT, short, status)
        if (status == 400 and "not a valid model id" in lowered) or (
            status == 404 and "no endpoints found" in lowered
        ):
            return ProviderError(Reason.MODEL_NOT_FOUND, short, status)
        return classify_by_status(status, short)


def _first_image(body: Any, *, status: int) -> bytes:
    """`choices[0].message.images[0].image_url.url` (a data URL) decoded; safety for a content filter;
    malformed_response when there is no image (an empty list is a failure, not a success)."""
    try:
        choice = body["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise malformed("no choices in the response", status) from None
    if choice.get("finish_reason") == "content_filter" or message.get("refusal"):
        raise ProviderError(Reason.SAFETY, "stopped by the content filter", status)
    if choice.get("finish_reason") == "error":
        raise ProviderError(Reason.SERVER, "generation failed upstream", status)
    try:
        url = message["images"][0]["image_url"]["url"]
        image, _ = decode_data_url(url)
    except (KeyError, IndexError, TypeError, ValueError):
        raise malformed("no image in the response", status) from None
    if not sniff_image_mime(image):
        raise malformed("the image could not be decoded", status)
    return image
