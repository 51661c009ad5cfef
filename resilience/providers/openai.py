"""OpenAI: Images (generations; edits as multipart with a reference), chat completions (captions and
vision OCR) and embeddings. The OpenAI-shaped pieces here are shared by OpenRouter, DeepSeek and
OpenAI-compatible servers.

Wire formats and error bodies: PROVIDERS.md §2, §6, §7; error codes:
https://platform.openai.com/docs/guides/error-codes
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from resilience.errors import Reason
from resilience.provider_costs import usage_of
from resilience.providers.base import (
    OCR_INSTRUCTION,
    Adapter,
    ProviderError,
    classify_by_status,
    data_url,
    error_fields,
    image_answer_max_bytes,
    image_prompt,
    malformed,
    sniff_image_mime,
    vectors_from,
)
from resilience.types import AIOutput, AIRequest

_SAFETY_WORDS = re.compile(r"safety|moderation|content polic|flagged", re.IGNORECASE)
IMAGE_SIZE = "1024x1024"
CHAT_MAX_TOKENS = 1024
OCR_MAX_TOKENS = 4096


def chat_messages(request: AIRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": request.prompt})
    return messages


def ocr_messages(request: AIRequest) -> list[dict[str, Any]]:
    """A vision chat turn: the instruction and the document (image_url, or a `file` part for PDFs)."""
    document = request.document or b""
    mime = request.document_mime or sniff_image_mime(document) or "image/png"
    if mime == "application/pdf":
        part: dict[str, Any] = {
            "type": "file",
            "file": {"filename": "menu.pdf", "file_data": data_url(document, mime)},
        }
    else:
        part = {"type": "image_url", "image_url": {"url": data_url(document, mime), "detail": "high"}}
    return [{"role": "user", "content": [{"type": "text", "text": OCR_INSTRUCTION}, part]}]


def chat_text(body: Any, *, status: int) -> str:
    """The answer of an OpenAI-shaped chat completion. Raises safety for a content filter or a refusal,
    server for `finish_reason: "error"` (OpenRouter), malformed_response when there is no text."""
    try:
        choice = body["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError, AttributeError):
        raise malformed("no choices in the response", status) from None
    finish = choice.get("finish_reason") or ""
    if finish == "content_filter" or message.get("refusal"):
        raise ProviderError(
            Reason.SAFETY, str(message.get("refusal") or "stopped by the content filter"), status
        )
    if finish == "error":
        raise ProviderError(Reason.SERVER, "generation failed upstream", status)
    content = message.get("content")
    if isinstance(content, list):  # some servers return content parts
        content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        raise malformed("empty answer", status)
    return content.strip()


class OpenAIShaped(Adapter):
    """Chat, OCR and embeddings over the OpenAI wire format; subclasses add images or tweak errors."""

    token_param = "max_tokens"  # OpenRouter, DeepSeek and self-hosted servers document this name

    def headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def call(
        self, kind: str, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        if kind == "chat":
            return self.chat(
                chat_messages(request), model=model, base_url=base_url, api_key=api_key, timeout=timeout
            )
        if kind == "ocr":
            return self.chat(
                ocr_messages(request),
                model=model,
                base_url=base_url,
                api_key=api_key,
                timeout=timeout,
                max_tokens=OCR_MAX_TOKENS,
            )
        if kind == "embedding":
            return self.embed(request, model=model, base_url=base_url, api_key=api_key, timeout=timeout)
        if kind == "image":
            return self.image(request, model=model, base_url=base_url, api_key=api_key, timeout=timeout)
        raise ProviderError(Reason.BAD_REQUEST, f"{kind} is not supported")

    def chat(
        self,
        messages: list[dict[str, Any]],
        *,
        model: str,
        base_url: str,
        api_key: str,
        timeout: float,
        max_tokens: int = CHAT_MAX_TOKENS,
    ) -> AIOutput:
        payload = {"model": model, "messages": messages, self.token_param: max_tokens}
        response, body = self.send(
            "POST",
            f"{base_url}/chat/completions",
            timeout=timeout,
            api_key=api_key,
            headers=self.headers(api_key),
            json=payload,
        )
        self.raise_body_error(body, response.status, api_key)
        try:
            text = chat_text(body, status=response.status)
        except ProviderError as error:
            raise self.fail(error, api_key=api_key) from None
        return AIOutput(model=str(body.get("model") or model), text=text, **usage_of(body))

    def embed(
        self, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        payload = {"model": model, "input": list(request.inputs)}
        response, body = self.send(
            "POST",
            f"{base_url}/embeddings",
            timeout=timeout,
            api_key=api_key,
            headers=self.headers(api_key),
            json=payload,
        )
        self.raise_body_error(body, response.status, api_key)
        data = body.get("data") if isinstance(body, dict) else None
        vectors = vectors_from(data, count=len(request.inputs), status_code=response.status)
        return AIOutput(model=model, vectors=vectors, **usage_of(body))

    def image(
        self, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        raise ProviderError(Reason.BAD_REQUEST, "image generation is not supported")

    def raise_body_error(self, body: Any, status: int, api_key: str) -> None:
        """Some servers (OpenRouter) report errors in a 200 body: classify them like the status."""
        if isinstance(body, dict) and body.get("error"):
            code, _, message, _ = error_fields(body)
            effective = int(code) if code.isdigit() else 500
            raise self.fail(self.classify(effective, body, message, {}), api_key=api_key)

    def classify(self, status: int, body: Any, text: str, headers: dict[str, str]) -> ProviderError:
        """OpenAI error envelope, in PROVIDERS.md §8 order: safety, quota, rate limit, model, auth, rest."""
        code, type_, message, _ = error_fields(body)
        short = message or f"HTTP {status}"
        if code in ("moderation_blocked", "content_policy_violation") or (
            type_ == "image_generation_user_error" and _SAFETY_WORDS.search(message)
        ):
            return ProviderError(Reason.SAFETY, short, status)
        # insufficient_quota is also a 429: check it before the rate limit (do not retry it).
        if code == "insufficient_quota" or type_ == "insufficient_quota":
            return ProviderError(Reason.QUOTA, short, status)
        if status == 429:
            return ProviderError(Reason.RATE_LIMIT, short, status)
        # A retired model may answer "does not exist" or "has been deprecated": match the code, not the status.
        if code == "model_not_found":
            return ProviderError(Reason.MODEL_NOT_FOUND, short, status)
        if code == "invalid_api_key":
            return ProviderError(Reason.AUTH, short, status)
        return classify_by_status(status, short)


class OpenAIAdapter(OpenAIShaped):
    """api.openai.com: GPT image models always answer `b64_json` (never a URL)."""

    provider_id = "openai"
    # api.openai.com rejects `max_tokens` on its reasoning models (gpt-5, o-series); the newer name
    # works on every current chat model: https://platform.openai.com/docs/api-reference/chat/create
    token_param = "max_completion_tokens"

    def image(
        self, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        prompt = image_prompt(request)
        if request.has_reference:
            # /images/edits is multipart/form-data: the reference goes in as the `image` file.
            mime = request.reference_mime or sniff_image_mime(request.reference_image or b"") or "image/png"
            extension = mime.rpartition("/")[2] or "png"
            response, body = self.send(
                "POST",
                f"{base_url}/images/edits",
                timeout=timeout,
                api_key=api_key,
                headers=self.headers(api_key),
                max_bytes=image_answer_max_bytes(),
                data={"model": model, "prompt": prompt, "size": IMAGE_SIZE, "n": "1"},
                files={"image": (f"reference.{extension}", request.reference_image, mime)},
            )
        else:
            response, body = self.send(
                "POST",
                f"{base_url}/images/generations",
                timeout=timeout,
                api_key=api_key,
                headers=self.headers(api_key),
                max_bytes=image_answer_max_bytes(),
                json={"model": model, "prompt": prompt, "size": IMAGE_SIZE, "n": 1},
            )
        image = b64_image(body, status=response.status)
        return AIOutput(
            model=model, image=image, image_mime=sniff_image_mime(image), images=1, **usage_of(body)
        )


def b64_image(body: Any, *, status: int) -> bytes:
    """`data[0].b64_json` decoded; malformed_response if missing, not base64 or not an image."""
    try:
        encoded = body["data"][0]["b64_json"]
        image = base64.b64decode(encoded, validate=True)
    except (KeyError, IndexError, TypeError, binascii.Error, ValueError):
        raise malformed("no image in the response", status) from None
    if not sniff_image_mime(image):
        raise malformed("the image could not be decoded", status)
    return image
