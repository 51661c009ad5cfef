"""Super Admin → AI Fallbacks: one tab per service kind, a card per chain candidate.

The page is a plain form: reorder, add, delete, provider switches and toggles only change the
browser's copy (cards are re-rendered server-side through the card partial, so a card looks the
same before and after Save); "Save changes" posts the whole tab and `resilience.chains.save_chain`
replaces the chain atomically — unless someone saved the tab after it was loaded (the form carries
the revision it started from): then nothing is written and the editor is told, edits kept.
Views parse, call one service function and render.
Installed by `bitethemenu.admin_site.SuperAdminSite` (superusers only).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resilience import chains, pricing
from resilience.chains import CandidateSpec, ChainConflict, ChainValidationError
from resilience.defaults import DEFAULT_CHAINS
from resilience.models import ChainCandidate, ChainRevision
from resilience.registry import ProviderSpec, available_providers, default_base_url, get_adapter, get_provider
from resilience.types import KIND_LABELS, SERVICE_KINDS

logger = logging.getLogger(__name__)

OTHER = "__other__"  # the model dropdown's "Other…" choice: the typed id is used instead
CARD_FIELDS = (
    "uid",
    "label",
    "provider",
    "model_choice",
    "model_other",
    "enabled",
    "env_key",
    "base_url",
    "notes",
)


@dataclass
class Card:
    """What the card template needs for one candidate (saved, posted or being edited)."""

    uid: str
    number: int
    spec: CandidateSpec
    providers: list[ProviderSpec]
    models: list[str]
    model_choice: str
    status: str  # "ready" | "skipped"
    skip_text: str  # why it is skipped, e.g. "OPENAI_API_KEY not set"
    default_env_key: str
    default_base_url: str
    errors: dict[str, str] = field(default_factory=dict)
    health: Any = None
    unknown_provider: bool = False
    needs_reference: bool = False  # tried only when the request carries a reference image
    price: int = 0  # credits a call costs a venue whose primary is this model (resilience.pricing)
    default_price: int = 0  # the kind's price with "Platform default"

    @property
    def advanced_open(self) -> bool:
        return bool({"env_key", "base_url", "notes"} & set(self.errors)) or bool(
            self.spec.env_key or self.spec.base_url
        )


def _new_uid() -> str:
    return "c" + secrets.token_hex(4)


def _health(spec: CandidateSpec) -> Any:
    """The breaker's view of this candidate, or None when resilience.health is not installed."""
    try:
        from resilience import health
    except ImportError:
        return None
    if get_provider(spec.provider) is None or not spec.model:
        return None
    try:
        return health.candidate_health(health.candidate_key(spec.provider, spec.model, spec.base_url))
    except Exception:  # health is a nicety on this page: never let it break editing a chain
        logger.exception("candidate health unavailable")
        return None


def build_card(
    kind: str, spec: CandidateSpec, *, uid: str, number: int, errors: dict[str, str] | None = None
) -> Card:
    # Never echo credentials in a base URL back into the page (a row saved before they were refused).
    spec = replace(spec, base_url=chains.without_userinfo(spec.base_url))
    providers = [p for p in available_providers() if p.supports(kind)]
    provider = get_provider(spec.provider)
    models = provider.models_for(kind) if provider else []
    if provider is not None and (spec.model not in models or not spec.model):
        # A typed id, an empty one (show the empty box next to its error rather than a
        # dropdown silently showing some other model), or a provider that lists none.
        choice = OTHER
    else:
        choice = spec.model
    if provider is None:
        status, skip_text = (
            "skipped",
            "pick a provider" if not spec.provider else f"unknown provider {spec.provider}",
        )
    else:
        skip_text = chains.skip_reason(spec)
        status = "skipped" if skip_text else "ready"
    return Card(
        uid=uid,
        number=number,
        spec=spec,
        providers=providers,
        models=models,
        model_choice=choice,
        status=status,
        skip_text=skip_text,
        default_env_key=provider.env_key if provider else "",
        default_base_url=chains.display_base_url(default_base_url(provider.id)) if provider else "",
        errors=errors or {},
        health=_health(spec),
        unknown_provider=bool(spec.provider) and spec.provider not in {p.id for p in providers},
        needs_reference=_needs_reference(kind, spec),
        price=pricing.model_credits(kind, spec.model) if spec.model else 0,
        default_price=pricing.default_credits(kind),
    )


def _needs_reference(kind: str, spec: CandidateSpec) -> bool:
    if get_provider(spec.provider) is None or not spec.model:
        return False
    try:
        return get_adapter(spec.provider).requires_reference(kind, spec.model)
    except Exception:  # an adapter that fails to load must not break the page; the cascade reports it
        logger.exception("adapter for %s unavailable", spec.provider)
        return False


def _spec_from(values: dict[str, str]) -> CandidateSpec:
    choice = values.get("model_choice", "")
    model = values.get("model_other", "") if choice == OTHER else choice
    return CandidateSpec(
        label=values.get("label", ""),
        provider=values.get("provider", ""),
        model=model,
        enabled=values.get("enabled", "1") == "1",
        env_key=values.get("env_key", ""),
        base_url=values.get("base_url", ""),
        notes=values.get("notes", ""),
    ).cleaned()


def parse_cards(data: QueryDict) -> tuple[list[str], list[CandidateSpec]] | None:
    """The posted cards in DOM order (= priority) as (uids, specs); None if the lists disagree."""
    lists = {name: data.getlist(name) for name in CARD_FIELDS}
    count = len(lists["uid"])
    if any(len(values) != count for values in lists.values()):
        return None
    rows = [{name: lists[name][i] for name in CARD_FIELDS} for i in range(count)]
    return [row["uid"] or _new_uid() for row in rows], [_spec_from(row) for row in rows]


# --- Views -----------------------------------------------------------------------------------


def _kind_or_404(kind: str | None) -> str:
    if kind not in SERVICE_KINDS:
        raise Http404("unknown service kind")
    return kind


def _tabs(kind: str) -> list[dict[str, Any]]:
    counts = dict(ChainCandidate.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return [
        {
            "kind": k,
            "label": KIND_LABELS[k],
            "count": counts.get(k, 0),
            "current": k == kind,
            "url": reverse("admin:super-ai-fallbacks-kind", args=[k]),
        }
        for k in SERVICE_KINDS
    ]


def _render_page(
    request: HttpRequest,
    site: admin.AdminSite,
    kind: str,
    cards: list[Card],
    *,
    status: int = 200,
    form_error: str = "",
    dirty: bool = False,
    base_revision: int | None = None,
) -> HttpResponse:
    if base_revision is None:
        latest = chains.latest_revision(kind)
        base_revision = latest.pk if latest else None
    context = {
        **site.each_context(request),
        "title": f"AI Fallbacks · {KIND_LABELS[kind]}",
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "tabs": _tabs(kind),
        "cards": cards,
        "error_count": sum(1 for card in cards if card.errors),
        "form_error": form_error,
        "dirty": dirty,
        "default_count": len(DEFAULT_CHAINS[kind]),
        "revision_count": ChainRevision.objects.filter(kind=kind).count(),
        "base_revision": base_revision or "",
    }
    return render(request, "admin/super/ai_fallbacks.html", context, status=status)


def _base_revision(data: QueryDict) -> int | None:
    """The revision the editor loaded (the form's hidden field); None when absent or not a number."""
    value = data.get("base_revision", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def _conflict_message(kind: str, latest: ChainRevision | None) -> str:
    who = latest.saved_by.get_username() if latest and latest.saved_by else "someone"
    what = ""
    if latest is not None:
        summary = chains.without_userinfo(latest.summary)
        what = f" (revision #{latest.pk} by {who}, {latest.created_at:%Y-%m-%d %H:%M} UTC: {summary})"
    return (
        f"The {KIND_LABELS[kind]} chain was changed by someone else while you were editing{what}. "
        "Nothing was saved. Your edits are below: compare them with History, then press Save changes "
        "again to replace that version with yours."
    )


def _posted_cards(
    kind: str, uids: list[str], specs: list[CandidateSpec], errors: dict[int, dict[str, str]]
) -> list[Card]:
    return [
        build_card(kind, spec, uid=uid, number=i + 1, errors=errors.get(i))
        for i, (uid, spec) in enumerate(zip(uids, specs, strict=True))
    ]


def _saved_cards(kind: str) -> list[Card]:
    return [
        build_card(kind, spec, uid=_new_uid(), number=i)
        for i, spec in enumerate(chains.load_specs(kind), start=1)
    ]


@require_http_methods(["GET", "POST"])
def ai_fallbacks(request: HttpRequest, *, site: admin.AdminSite, kind: str | None = None) -> HttpResponse:
    """GET: the tab as saved. POST: save the whole tab, or re-render what was posted with errors."""
    kind = _kind_or_404(kind or request.GET.get("kind") or "image")
    if request.method == "GET":
        return _render_page(request, site, kind, _saved_cards(kind))
    parsed = parse_cards(request.POST)
    if parsed is None:
        return _render_page(
            request,
            site,
            kind,
            _saved_cards(kind),
            status=400,
            form_error="The form arrived incomplete, so nothing was saved. Please make your changes again.",
        )
    uids, specs = parsed
    base = _base_revision(request.POST)
    try:
        chains.save_chain(kind=kind, specs=specs, user=request.user, expected_revision=base)
    except ChainValidationError as exc:
        cards = _posted_cards(kind, uids, specs, exc.errors)
        # Keep the revision the editor loaded: a colleague's save meanwhile is still caught.
        return _render_page(request, site, kind, cards, status=422, dirty=True, base_revision=base)
    except ChainConflict as exc:
        cards = _posted_cards(kind, uids, specs, {})
        # Now the editor knows: the next Save (against the current revision) replaces it.
        return _render_page(
            request,
            site,
            kind,
            cards,
            status=409,
            dirty=True,
            form_error=_conflict_message(kind, exc.latest),
            base_revision=exc.latest.pk if exc.latest else None,
        )
    latest = ChainRevision.objects.filter(kind=kind).first()
    messages.success(
        request, f"Saved the {KIND_LABELS[kind]} chain. {latest.summary if latest else ''}".strip()
    )
    return HttpResponseRedirect(reverse("admin:super-ai-fallbacks-kind", args=[kind]))


@require_http_methods(["GET", "POST"])
def card_partial(request: HttpRequest, *, site: admin.AdminSite, kind: str) -> HttpResponse:
    """One card re-rendered from the browser's current values (htmx POST), or a blank one (GET).

    Writes nothing. The values come as a POST body, not a query string, so whatever an admin is
    typing into a base URL or the notes never lands in access logs. `switch_provider=1` means the
    provider chip was just changed: pick that provider's first model for this kind instead of
    carrying the old provider's model over.
    """
    kind = _kind_or_404(kind)
    data = request.POST if request.method == "POST" else request.GET
    if request.method == "GET":
        spec = CandidateSpec(label="", provider="", model="")
    else:
        spec = _spec_from({name: data.get(name, "") for name in CARD_FIELDS})
        provider = get_provider(spec.provider)
        if data.get("switch_provider") and provider is not None:
            models = provider.models_for(kind)
            spec = CandidateSpec(**{**spec.as_dict(), "model": models[0] if models else ""})
            if not spec.label:
                spec = CandidateSpec(**{**spec.as_dict(), "label": f"{provider.label} {spec.model}".strip()})
    # The browser renumbers cards after every swap, so the number here is only a placeholder.
    card = build_card(kind, spec, uid=data.get("uid") or _new_uid(), number=0)
    return render(request, "admin/super/_ai_fallback_card.html", {"card": card, "kind": kind})


@require_POST
def reset(request: HttpRequest, *, site: admin.AdminSite, kind: str) -> HttpResponse:
    kind = _kind_or_404(kind)
    chains.reset_chain(kind, user=request.user)
    messages.success(request, f"Reset the {KIND_LABELS[kind]} chain to the platform defaults.")
    return HttpResponseRedirect(reverse("admin:super-ai-fallbacks-kind", args=[kind]))


@require_GET
def history(request: HttpRequest, *, site: admin.AdminSite, kind: str) -> HttpResponse:
    """Every saved version of the kind's chain: who, when, what changed, and a restore button."""
    kind = _kind_or_404(kind)
    context = {
        **site.each_context(request),
        "title": f"AI Fallbacks · {KIND_LABELS[kind]} · History",
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "tabs": _tabs(kind),
        "revisions": [_shown_revision(rev) for rev in chains.revisions_for(kind)],
    }
    return render(request, "admin/super/ai_fallbacks_history.html", context)


def _shown_revision(revision: ChainRevision) -> ChainRevision:
    """The revision as the History page shows it: base URLs and the summary without credentials."""
    revision.summary = chains.without_userinfo(revision.summary)
    revision.candidates = [
        {**item, "base_url": chains.without_userinfo(str(item.get("base_url") or ""))}
        for item in revision.candidates
    ]
    return revision


@require_POST
def restore(request: HttpRequest, *, site: admin.AdminSite, kind: str, revision_id: int) -> HttpResponse:
    kind = _kind_or_404(kind)
    if not ChainRevision.objects.filter(pk=revision_id, kind=kind).exists():
        raise Http404("no such revision")
    try:
        chains.restore_revision(revision_id=revision_id, user=request.user)
    except ChainValidationError as exc:
        problems = "; ".join(f"#{i + 1} {', '.join(errs.values())}" for i, errs in sorted(exc.errors.items()))
        messages.error(request, f"Revision #{revision_id} can no longer be saved as it was: {problems}")
        return HttpResponseRedirect(reverse("admin:super-ai-fallbacks-history", args=[kind]))
    messages.success(request, f"Restored revision #{revision_id} of the {KIND_LABELS[kind]} chain.")
    return HttpResponseRedirect(reverse("admin:super-ai-fallbacks-kind", args=[kind]))


def super_admin_urls(site: admin.AdminSite) -> list[URLPattern]:
    """The AI Fallbacks pages, each wrapped in `site.admin_view` (login + superuser + CSRF)."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        return site.admin_view(partial(view, site=site))

    return [
        path("super/ai-fallbacks/", wrap(ai_fallbacks), name="super-ai-fallbacks"),
        path("super/ai-fallbacks/<str:kind>/", wrap(ai_fallbacks), name="super-ai-fallbacks-kind"),
        path("super/ai-fallbacks/<str:kind>/card/", wrap(card_partial), name="super-ai-fallbacks-card"),
        path("super/ai-fallbacks/<str:kind>/reset/", wrap(reset), name="super-ai-fallbacks-reset"),
        path("super/ai-fallbacks/<str:kind>/history/", wrap(history), name="super-ai-fallbacks-history"),
        path(
            "super/ai-fallbacks/<str:kind>/history/<int:revision_id>/restore/",
            wrap(restore),
            name="super-ai-fallbacks-restore",
        ),
    ]
