"""Reading, validating and replacing the super-admin fallback chains (one per service kind).

Every write goes through `save_chain` (the admin page, the API, reset and restore all call it):
it validates the whole list, then atomically replaces the kind's rows and writes a
`ChainRevision` with a human summary of what changed. Nothing is written when validation fails.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import connection, transaction

from resilience.env_keys import NOT_ALLOWED_MESSAGE, env_key_allowed
from resilience.models import ChainCandidate, ChainRevision
from resilience.registry import ProviderSpec, available_providers, default_base_url, get_provider
from resilience.types import KIND_LABELS, SERVICE_KINDS
from resilience.validation import label_error, model_id_error

ENV_KEY_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Providers whose base URL may be plain http (self-hosted servers on a private network).
HTTP_ALLOWED_PROVIDERS = frozenset({"openai_compatible"})
# Column sizes of ChainCandidate: checked here so a long value is a card error, not a DB error.
MAX_LENGTHS = {"label": 120, "provider": 40, "model": 200, "env_key": 100, "base_url": 500}
# Notes are a TextField; the cap matches the API's (resilience.schemas.Notes), so both surfaces agree.
MAX_NOTES = 4000
# A chain longer than this is a mistake (a walk that long would blow every deadline); the API
# schema and the admin page both meet this one limit here.
MAX_CANDIDATES = 50
SINGLE_LINE_FIELDS = ("label", "provider", "model", "env_key", "base_url")


@dataclass(frozen=True)
class CandidateSpec:
    """One candidate as a super admin configures it; list order is priority.

    `env_key` / `base_url` empty mean the provider's defaults.
    """

    label: str
    provider: str
    model: str
    enabled: bool = True
    env_key: str = ""
    base_url: str = ""
    notes: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CandidateSpec:
        """Build from a dict (a revision's JSON, an API body); unknown keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def from_candidate(cls, candidate: ChainCandidate) -> CandidateSpec:
        return cls(
            label=candidate.label,
            provider=candidate.provider,
            model=candidate.model,
            enabled=candidate.enabled,
            env_key=candidate.env_key,
            base_url=candidate.base_url,
            notes=candidate.notes,
        )

    def cleaned(self) -> CandidateSpec:
        """Surrounding whitespace stripped (what gets validated and saved)."""
        return CandidateSpec(
            label=(self.label or "").strip(),
            provider=(self.provider or "").strip(),
            model=(self.model or "").strip(),
            enabled=bool(self.enabled),
            env_key=(self.env_key or "").strip(),
            base_url=(self.base_url or "").strip(),
            notes=(self.notes or "").strip(),
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ChainValidationError(Exception):
    """The chain was not saved. `errors` maps a card index (0-based) to {field: message}."""

    def __init__(self, errors: dict[int, dict[str, str]]):
        super().__init__(f"{len(errors)} candidate(s) have errors")
        self.errors = errors


class ChainConflict(Exception):
    """The chain was saved by someone else after the editor loaded it; nothing was written.
    `latest` is the revision that is current now (who, when, what changed)."""

    def __init__(self, latest: ChainRevision | None):
        super().__init__("the chain changed since it was loaded")
        self.latest = latest


def latest_revision(kind: str) -> ChainRevision | None:
    """The kind's current revision (the newest), with who saved it."""
    return ChainRevision.objects.filter(kind=kind).select_related("saved_by").first()


def _check_kind(kind: str) -> None:
    if kind not in SERVICE_KINDS:
        raise ValueError(f"unknown service kind {kind!r}")


def load_chain(kind: str) -> list[ChainCandidate]:
    """The kind's candidates in priority order (enabled or not)."""
    _check_kind(kind)
    return list(ChainCandidate.objects.filter(kind=kind).order_by("priority"))


def load_specs(kind: str) -> list[CandidateSpec]:
    return [CandidateSpec.from_candidate(c) for c in load_chain(kind)]


# --- Readiness (configuration only; runtime health is resilience.health's business) ----------


def skip_reason(spec: CandidateSpec) -> str:
    """ "" when the candidate would be tried; else why it is skipped: "disabled" or "KEY not set".

    Works on unsaved specs, so a card still being edited shows the badge it will have once saved.
    The rule is the runtime's (resilience.cascade.config_skip_reason, ChainCandidate.is_ready):
    when the candidate names an env key (its override, else the provider's default), that key
    must be set — the badge must never say Ready for a candidate the cascade will skip.
    """
    if not spec.enabled:
        return "disabled"
    key = effective_env_key(spec)
    if key and not env_key_allowed(key):
        return "env key not allowed"  # its value is never read (see resilience.env_keys)
    if not key or os.environ.get(key):
        return ""
    return f"{key} not set"


def effective_env_key(spec: CandidateSpec) -> str:
    """The env key NAME this candidate reads (its override, else the provider's default)."""
    provider = get_provider(spec.provider)
    return spec.env_key or (provider.env_key if provider else "")


def display_base_url(url: str) -> str:
    """A base URL as pages show it: no user info (an operator may have put credentials in a
    `<PROVIDER>_BASE_URL`), no query string or fragment. "" for a URL that does not parse."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


_USERINFO_IN_TEXT = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#@\s]*@")


def without_userinfo(text: str) -> str:
    """`text` with the user info of every URL in it removed (revision summaries saved before base
    URLs were checked for credentials may still hold some)."""
    return _USERINFO_IN_TEXT.sub(r"\1", text)


# --- Validation ------------------------------------------------------------------------------


def _provider_ids() -> dict[str, ProviderSpec]:
    return {p.id: p for p in available_providers()}


def _text_error(value: str, *, single_line: bool) -> str:
    """Characters no field may hold: NUL and lone surrogates (PostgreSQL text refuses them, so they
    would fail in the database instead of on the card), and in one-line fields any control
    character (a pasted tab or line break inside an id or a URL is never meant)."""
    for ch in value:
        category = unicodedata.category(ch)
        if ch == "\x00" or category == "Cs" or (single_line and category == "Cc"):
            return "Remove the invisible control characters (a pasted tab, line break or NUL)."
    return ""


def _base_url_error(base_url: str, *, allow_http: bool) -> str:
    if not base_url:
        return ""
    if any(ch.isspace() for ch in base_url):
        return "A URL has no spaces."
    try:
        parts = urlsplit(base_url)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "https://[::1"
        return "Enter a full URL starting with https:// (for example https://api.example.com/v1)."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter a full URL starting with https:// (for example https://api.example.com/v1)."
    if parts.scheme == "http" and not allow_http:
        return "Use https:// (plain http:// is allowed only for OpenAI-compatible servers)."
    if parts.username or parts.password or "@" in parts.netloc:
        return "Remove the credentials: keys belong in the environment, named by the env key."
    if parts.query or parts.fragment:
        return "Remove the query string: a base URL has no ?… or #… part."
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "The port is not a number between 0 and 65535."
    return ""


def _validate_one(kind: str, spec: CandidateSpec, providers: dict[str, ProviderSpec]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not spec.label:
        errors["label"] = "Give this candidate a label."
    provider = providers.get(spec.provider)
    if provider is None:
        hidden = get_provider(spec.provider)
        if hidden is not None:  # e.g. `simulated` with SIMULATED_PROVIDER_ENABLED off
            errors["provider"] = f"{hidden.label} is not available on this server."
        else:
            errors["provider"] = (
                f"Unknown provider {spec.provider!r}." if spec.provider else "Pick a provider."
            )
    elif not provider.supports(kind):
        errors["provider"] = f"{provider.label} does not offer {KIND_LABELS[kind]}."
    if not spec.model:
        errors["model"] = "Pick a model, or type its id."
    elif model_problem := model_id_error(spec.model):
        errors["model"] = model_problem
    if "label" not in errors and (label_problem := label_error(spec.label)):
        errors["label"] = label_problem
    if spec.env_key and not ENV_KEY_RE.match(spec.env_key):
        errors["env_key"] = "An env key name looks like OPENAI_API_KEY: capitals, digits and underscores."
    elif spec.env_key and not env_key_allowed(spec.env_key):
        errors["env_key"] = NOT_ALLOWED_MESSAGE
    allow_http = spec.provider in HTTP_ALLOWED_PROVIDERS or bool(provider and provider.allow_http)
    if url_error := _base_url_error(spec.base_url, allow_http=allow_http):
        errors["base_url"] = url_error
    elif provider is not None and allow_http and not spec.base_url and not default_base_url(provider.id):
        # A self-hosted server has no public default: without a URL there is nothing to call.
        errors["base_url"] = f"{provider.label} has no default base URL: enter the server's URL."
    for field in (*SINGLE_LINE_FIELDS, "notes"):
        if field not in errors and (
            text_error := _text_error(getattr(spec, field), single_line=field in SINGLE_LINE_FIELDS)
        ):
            errors[field] = text_error
    for field, limit in (*MAX_LENGTHS.items(), ("notes", MAX_NOTES)):
        if field not in errors and len(getattr(spec, field)) > limit:
            errors[field] = f"At most {limit} characters."
    return errors


def validate_chain(kind: str, specs: Sequence[CandidateSpec]) -> dict[int, dict[str, str]]:
    """Errors by card index (0-based) and field name; empty when the chain can be saved.

    Checks: a known provider that offers this kind; a label and a model id; an env key name that
    looks like an env var and that the operator allows (`resilience.env_keys.env_key_allowed`); a base URL that is http(s) with a host (https unless the provider is
    openai_compatible) and carries no spaces, credentials, query string or fragment; no control
    characters (none in one-line fields, no NUL anywhere); the column sizes (notes: MAX_NOTES); at most
    MAX_CANDIDATES cards.
    """
    _check_kind(kind)
    providers = _provider_ids()
    errors: dict[int, dict[str, str]] = {}
    for index, spec in enumerate(specs):
        if card_errors := _validate_one(kind, spec.cleaned(), providers):
            errors[index] = card_errors
    if len(specs) > MAX_CANDIDATES:
        # Shown on the first card past the limit, where the admin can delete from.
        errors.setdefault(MAX_CANDIDATES, {})["label"] = (
            f"A chain holds at most {MAX_CANDIDATES} candidates: delete this one and the ones below it."
        )
    return errors


# --- What changed (the revision summary) ----------------------------------------------------


def _match(old: list[CandidateSpec], new: list[CandidateSpec]) -> dict[int, int]:
    """Pair new cards with old ones: same label first, then same provider+model. new → old index."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for key in (lambda s: s.label, lambda s: (s.provider, s.model)):
        for n, spec in enumerate(new):
            if n in pairs:
                continue
            for o, before in enumerate(old):
                if o not in used and key(before) == key(spec):
                    pairs[n] = o
                    used.add(o)
                    break
    return pairs


def _field_changes(before: CandidateSpec, after: CandidateSpec) -> list[str]:
    changes = []
    if before.label != after.label:
        changes.append(f"renamed “{before.label}” → “{after.label}”")
    if before.provider != after.provider:
        changes.append(f"provider {before.provider} → {after.provider}")
    if before.model != after.model:
        changes.append(f"model {before.model} → {after.model}")
    if before.enabled != after.enabled:
        changes.append("enabled" if after.enabled else "disabled")
    for field, name in (("env_key", "env key"), ("base_url", "base URL")):
        old_value, new_value = getattr(before, field) or "default", getattr(after, field) or "default"
        old_value, new_value = without_userinfo(old_value), without_userinfo(new_value)
        if old_value != new_value:
            changes.append(f"{name} {old_value} → {new_value}")
    if before.notes != after.notes:
        changes.append("notes edited")
    return changes


def describe_changes(old: Sequence[CandidateSpec], new: Sequence[CandidateSpec]) -> str:
    """A one-line human summary, e.g. "OpenAI: model gpt-image-1 → gpt-image-2; moved X up to #2"."""
    old, new = list(old), list(new)
    pairs = _match(old, new)
    parts: list[str] = []
    for n, spec in enumerate(new):
        if n in pairs and (changes := _field_changes(old[pairs[n]], spec)):
            parts.append(f"{old[pairs[n]].label}: {', '.join(changes)}")
    # Moves: compare the relative order of the cards present before and after.
    kept = sorted(pairs, key=lambda n: n)
    old_rank = {n: rank for rank, n in enumerate(sorted(kept, key=lambda n: pairs[n]))}
    for rank, n in enumerate(kept):
        if old_rank[n] != rank:
            direction = "up" if rank < old_rank[n] else "down"
            parts.append(f"moved {new[n].label} {direction} to #{n + 1}")
    for n, spec in enumerate(new):
        if n not in pairs:
            parts.append(f"added {spec.label} ({spec.provider} {spec.model}) at #{n + 1}")
    removed = set(range(len(old))) - set(pairs.values())
    parts += [f"removed {old[o].label}" for o in sorted(removed)]
    return "; ".join(parts) or "no changes"


# --- Writes ----------------------------------------------------------------------------------


def _lock_kind(kind: str) -> None:
    # Two admins saving the same tab at once: serialise them, so the second replaces the first
    # instead of colliding on (kind, priority). SQLite already serialises writers (IMMEDIATE).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"resilience.chain.{kind}"])


def _replace(
    *,
    kind: str,
    specs: list[CandidateSpec],
    user: Any,
    prefix: str = "",
    expected_revision: int | None = None,
) -> list[ChainCandidate]:
    with transaction.atomic():
        _lock_kind(kind)
        # Checked under the lock, so two editors who loaded the same revision cannot both win.
        if expected_revision is not None:
            latest = latest_revision(kind)
            if latest is not None and latest.pk != expected_revision:
                raise ChainConflict(latest)
        before = load_specs(kind)
        ChainCandidate.objects.filter(kind=kind).delete()
        saved = ChainCandidate.objects.bulk_create(
            ChainCandidate(kind=kind, priority=i, **spec.as_dict()) for i, spec in enumerate(specs, start=1)
        )
        summary = describe_changes(before, specs)
        ChainRevision.objects.create(
            kind=kind,
            candidates=[spec.as_dict() for spec in specs],
            summary=f"{prefix}: {summary}" if prefix else summary,
            saved_by=user if user is not None and getattr(user, "pk", None) else None,
        )
    return saved


def save_chain(
    *,
    kind: str,
    specs: Iterable[CandidateSpec],
    user: Any = None,
    summary_prefix: str = "",
    expected_revision: int | None = None,
) -> list[ChainCandidate]:
    """Replace the kind's whole chain with `specs` (list order is priority) and record a revision.

    Raises ValueError for an unknown kind and `ChainValidationError` (nothing written) when any
    card is invalid. Atomic: the rows and the revision are written together or not at all, so a
    cascade reading the chain sees either the old list or the new one. With `expected_revision`
    (the revision the editor loaded), raises `ChainConflict` (nothing written) if another save
    landed since: a super admin's edits never silently replace a colleague's.
    """
    _check_kind(kind)
    cleaned = [spec.cleaned() for spec in specs]
    if errors := validate_chain(kind, cleaned):
        raise ChainValidationError(errors)
    return _replace(
        kind=kind, specs=cleaned, user=user, prefix=summary_prefix, expected_revision=expected_revision
    )


def reset_chain(kind: str, *, user: Any = None) -> list[ChainCandidate]:
    """Replace the kind's chain with the seeded defaults (resilience.defaults); writes a revision."""
    from resilience.defaults import DEFAULT_CHAINS  # defaults imports CandidateSpec from here

    _check_kind(kind)
    return _replace(kind=kind, specs=list(DEFAULT_CHAINS[kind]), user=user, prefix="Reset to defaults")


def restore_revision(*, revision_id: int, user: Any = None) -> list[ChainCandidate]:
    """Make an earlier revision's list the current chain again (itself a new revision).

    Raises ChainRevision.DoesNotExist for an unknown id and ChainValidationError if the old list
    no longer validates (e.g. a provider was removed from the registry since).
    """
    revision = ChainRevision.objects.get(pk=revision_id)
    specs = [CandidateSpec.from_dict(item) for item in revision.candidates]
    when = revision.created_at.strftime("%Y-%m-%d %H:%M")
    return save_chain(
        kind=revision.kind,
        specs=specs,
        user=user,
        summary_prefix=f"Restored revision #{revision.pk} ({when} UTC)",
    )


def revisions_for(kind: str, *, limit: int = 50) -> list[ChainRevision]:
    """The kind's revisions, newest first, with who saved them."""
    _check_kind(kind)
    return list(ChainRevision.objects.filter(kind=kind).select_related("saved_by")[:limit])
