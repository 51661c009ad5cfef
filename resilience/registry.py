"""The provider registry: data about each AI provider, and its adapter loaded lazily.

Each entry names a provider's display label, its default env key (the key's *name*: the value is read
from the process environment at call time and never stored), its default base URL, and its model ids
by capability (`image`, `chat`, `ocr`, `embedding`). Super admins may also type a model id the registry
does not know yet; the registry only feeds the model dropdowns and the defaults.

Model ids are current as of PROVIDERS.md (about Oct 2026): dall-e-2/3 and gpt-image-1 are shut down,
DeepSeek's `deepseek-chat` alias was retired, so neither is listed.

Like healthchecks' TRANSPORTS, each provider names its adapter by dotted path; `get_adapter` imports it
on first use and caches it, so adding a provider is one entry here plus one module in providers/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings

from bitethemenu.http import host_and_port

if TYPE_CHECKING:
    from resilience.providers.base import Adapter

KIE_UPLOAD_BASE_URL = "https://kieai.redpandaai.co"

# The simulated provider's models: each behaves as its name says (see resilience/providers/simulated.py).
# Only `ok` answers; the others are failure models for tests and DEBUG demos of the fallback chain.
SIMULATED_FAILURE_MODELS = [
    "sensitive",
    "sensitive-with-reference",
    "rate-limit",
    "gone",
    "timeout",
    "server-error",
    "hang",
    "empty",
]
SIMULATED_MODELS = ["ok", *SIMULATED_FAILURE_MODELS]


@dataclass(frozen=True)
class ProviderSpec:
    """One provider. `models` maps a service kind to known model ids; a kind absent from it is not
    supported by the provider's adapter. `env_key` is the default key variable's name ("" = none);
    `needs_key` False means calls work without a key (simulated, self-hosted servers)."""

    id: str
    label: str
    env_key: str
    base_url: str
    models: dict[str, list[str]]
    needs_key: bool = True
    adapter: str = ""  # dotted path "module:Class"
    allow_http: bool = False  # http:// base URLs accepted (self-hosted servers on a private network)
    # Models listed only in DEBUG and tests (the simulated failure models): never offered in production.
    debug_only_models: tuple[str, ...] = ()
    kinds: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", tuple(self.models))

    def supports(self, kind: str) -> bool:
        return kind in self.models

    def models_for(self, kind: str) -> list[str]:
        """The model ids offered for `kind`, without the debug-only ones outside DEBUG and tests."""
        models = self.models.get(kind, [])
        if settings.DEBUG or settings.TESTING:
            return list(models)
        return [m for m in models if m not in self.debug_only_models]


PROVIDERS: dict[str, ProviderSpec] = {
    spec.id: spec
    for spec in [
        ProviderSpec(
            id="kie",
            label="KIE",
            env_key="KIE_API_KEY",
            base_url="https://api.kie.ai",
            models={
                "image": ["nano-banana-2", "nano-banana-pro", "google/nano-banana-edit", "google/nano-banana"]
            },
            adapter="resilience.providers.kie:KieAdapter",
        ),
        ProviderSpec(
            id="openai",
            label="OpenAI",
            env_key="OPENAI_API_KEY",
            base_url="https://api.openai.com/v1",
            models={
                "image": ["gpt-image-2", "gpt-image-2-2026-04-21"],
                "chat": ["gpt-4o", "gpt-5"],
                "ocr": ["gpt-4o", "gpt-5"],
                "embedding": ["text-embedding-3-small", "text-embedding-3-large"],
            },
            adapter="resilience.providers.openai:OpenAIAdapter",
        ),
        ProviderSpec(
            id="openrouter",
            label="OpenRouter",
            env_key="OPENROUTER_API_KEY",
            base_url="https://openrouter.ai/api/v1",
            models={
                "image": ["google/gemini-2.5-flash-image"],
                "chat": [
                    "anthropic/claude-sonnet-4.6",
                    "openai/gpt-4o",
                    "qwen/qwen3-235b-a22b-2507",
                    "deepseek/deepseek-chat-v3-0324",
                    "deepseek/deepseek-v3.2",
                    "anthropic/claude-sonnet-5",
                ],
                "ocr": ["anthropic/claude-sonnet-4.6", "openai/gpt-4o"],
                "embedding": ["openai/text-embedding-3-small"],
            },
            adapter="resilience.providers.openrouter:OpenRouterAdapter",
        ),
        ProviderSpec(
            id="anthropic",
            label="Anthropic",
            env_key="ANTHROPIC_API_KEY",
            base_url="https://api.anthropic.com",
            models={
                "chat": [
                    "claude-sonnet-4-6",
                    "claude-haiku-4-5-20251001",
                    "claude-sonnet-5",
                    "claude-opus-4-8",
                ],
                "ocr": ["claude-sonnet-4-6", "claude-haiku-4-5-20251001", "claude-sonnet-5"],
            },
            adapter="resilience.providers.anthropic:AnthropicAdapter",
        ),
        ProviderSpec(
            id="deepseek",
            label="DeepSeek",
            env_key="DEEPSEEK_API_KEY",
            base_url="https://api.deepseek.com",
            models={"chat": ["deepseek-v4-flash", "deepseek-flash", "deepseek-v4-pro"]},
            adapter="resilience.providers.deepseek:DeepSeekAdapter",
        ),
        ProviderSpec(
            id="mistral",
            label="Mistral",
            env_key="MISTRAL_API_KEY",
            base_url="https://api.mistral.ai/v1",
            models={"ocr": ["mistral-ocr-latest"], "embedding": ["mistral-embed"]},
            adapter="resilience.providers.mistral:MistralAdapter",
        ),
        ProviderSpec(
            id="openai_compatible",
            label="OpenAI-compatible",
            # Local servers usually take no key: none by default; a candidate may name one (Advanced),
            # and is then skipped while that variable is unset, like any other keyed candidate.
            env_key="",
            base_url="",  # no default: the super admin enters the server's URL (Ollama, vLLM…)
            models={"image": [], "chat": ["llama3.1"], "ocr": ["llava"], "embedding": ["nomic-embed-text"]},
            needs_key=False,
            adapter="resilience.providers.openai_compatible:OpenAICompatibleAdapter",
            allow_http=True,
        ),
        ProviderSpec(
            id="simulated",
            label="Simulated",
            env_key="",
            base_url="",
            models={kind: list(SIMULATED_MODELS) for kind in ("image", "chat", "ocr", "embedding")},
            needs_key=False,
            adapter="resilience.providers.simulated:SimulatedAdapter",
            debug_only_models=tuple(SIMULATED_FAILURE_MODELS),
        ),
    ]
}


def get_provider(provider_id: str) -> ProviderSpec | None:
    """The provider with this id, or None. Knows `simulated` even when it is hidden from choosers
    (`available_providers`): the runtime decides separately whether it may be called."""
    return PROVIDERS.get(provider_id)


def available_providers() -> list[ProviderSpec]:
    """Providers a super admin or venue may pick, in display order. `simulated` only when
    settings.SIMULATED_PROVIDER_ENABLED."""
    show_simulated = settings.SIMULATED_PROVIDER_ENABLED
    return [spec for spec in PROVIDERS.values() if spec.id != "simulated" or show_simulated]


def base_url_variable(provider_id: str) -> str:
    """The environment variable that overrides a provider's default base URL (as the SDKs name it)."""
    return f"{provider_id.upper()}_BASE_URL"


def default_base_url(provider_id: str) -> str:
    """The provider's default base URL: `<PROVIDER>_BASE_URL` from the environment (declared in
    settings.AI_PROVIDER_BASE_URLS, checked at start-up) or the registry's default. Trailing slashes
    are dropped. "" for unknown ids."""
    spec = PROVIDERS.get(provider_id)
    if spec is None:
        return ""
    value = settings.AI_PROVIDER_BASE_URLS.get(provider_id, "") or spec.base_url
    return value.rstrip("/")


def kie_upload_base_url() -> str:
    """KIE's file-upload host (reference images must be URLs): `KIE_UPLOAD_BASE_URL` or the default."""
    return (settings.KIE_UPLOAD_BASE_URL or KIE_UPLOAD_BASE_URL).rstrip("/")


def effective_base_url(provider_id: str, override: str = "") -> str:
    """A candidate's base URL: its admin-entered override, else the provider default."""
    return override.strip().rstrip("/") if override and override.strip() else default_base_url(provider_id)


@cache
def get_adapter(provider_id: str) -> Adapter:
    """The adapter instance for a provider (imported on first use, then cached). KeyError if unknown."""
    spec = PROVIDERS[provider_id]
    module_name, _, class_name = spec.adapter.partition(":")
    adapter_class: type[Adapter] = getattr(import_module(module_name), class_name)
    return adapter_class()


def operator_base_urls() -> list[str]:
    """The base URLs the operator chose (`<PROVIDER>_BASE_URL`, `KIE_UPLOAD_BASE_URL`) or the registry
    ships. They are operator-trusted: they may be http:// (as the official SDKs allow) and may point at a
    private address (a local proxy); an admin-entered override is neither."""
    urls = [default_base_url(provider_id) for provider_id in PROVIDERS] + [kie_upload_base_url()]
    return [url for url in urls if url]


def operator_trusted_hosts() -> frozenset[str]:
    """`host:port` of every operator base URL: the outbound guard lets calls reach these even when
    they resolve to a private address (bitethemenu.http also honours settings.AI_PRIVATE_HOSTS)."""
    return frozenset(host_and_port(url) for url in operator_base_urls())


def is_operator_url(url: str) -> bool:
    """True when `url` lies under one of the operator base URLs."""
    return any(url == base or url.startswith(base + "/") for base in operator_base_urls())
