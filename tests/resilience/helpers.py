"""Wire bodies and small helpers shared by the adapter tests (bodies copied from PROVIDERS.md)."""

from __future__ import annotations

import base64
import io
import json

from PIL import Image

from resilience.registry import default_base_url, get_adapter
from resilience.types import AIRequest


def png(colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


PNG = png()
PNG_B64 = base64.b64encode(PNG).decode()
SECRET = "sk-test-SECRET-0123456789abcdef"


def call(
    provider: str,
    kind: str,
    request: AIRequest,
    *,
    model: str = "m",
    timeout: float = 30.0,
    base_url: str | None = None,
    api_key: str = SECRET,
):
    return get_adapter(provider).call(
        kind,
        request,
        model=model,
        base_url=base_url or default_base_url(provider),
        api_key=api_key,
        timeout=timeout,
    )


def sent_json(call_) -> dict:
    return json.loads(call_.request.body)
