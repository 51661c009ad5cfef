"""Any OpenAI-compatible server (Ollama, vLLM, LM Studio…) at an admin-entered base URL.

The same wire format and error rules as OpenAI; `http://` is allowed (self-hosted servers on a private
network), and the Authorization header is sent only when a key is configured. Images use
/images/generations with `b64_json`, as OpenAI does.
"""

from __future__ import annotations

from resilience.providers.openai import OpenAIAdapter


class OpenAICompatibleAdapter(OpenAIAdapter):
    provider_id = "openai_compatible"
    allow_http = True
    token_param = "max_tokens"  # what Ollama, vLLM and LM Studio accept
