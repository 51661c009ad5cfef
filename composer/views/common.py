"""What every venue page shares: the current venue, page-or-fragment rendering, friendly errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, wraps
from typing import Any
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling

from bitethemenu.errors import FriendlyError
from bitethemenu.models import Venue
from bitethemenu.request_types import VenueRequest
from composer.services import new_request_id
from credits.gate import balance_of, cost_of

# These codes mean "fix what you sent": shown as a form error next to the form, not as a banner.
INPUT_ERROR_CODES = frozenset({"invalid_input", "payload_too_large"})

View = Callable[..., HttpResponse]

# The one-time id each paid form carries (composer/_submission.html renders new_request_id()).
_SUBMISSION = re.compile(r"[0-9a-f]{32}")


def login_and_venue_required(view: View) -> View:
    """login_required, htmx-aware, plus a current venue: what every venue page needs.

    Signed out: the login page, coming back here after (like login_required). For an htmx request
    the whole window goes there (HX-Redirect) instead of the login form being swapped into a panel.
    No venue: home, which says what to do.
    """

    @wraps(view)
    def wrapper(request: VenueRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.htmx:
                page = request.htmx.current_url_abs_path or request.get_full_path()
                return HttpResponseClientRedirect(f"{resolve_url(settings.LOGIN_URL)}?next={quote(page)}")
            return redirect_to_login(request.get_full_path())
        if not request.venue:
            return redirect("home")
        return view(request, *args, **kwargs)

    return wrapper


def current_venue(request: VenueRequest) -> Venue:
    venue = request.venue
    assert venue, "login_and_venue_required guarantees a venue"
    return venue


def job_not_here(request: VenueRequest) -> HttpResponse:
    """A polled job that is not (or no longer) this venue's — deleted, or the user switched venue in
    another tab. A plain GET is a 404 like any other venue resource; htmx's poll gets 286 and nothing,
    which stops the polling and removes the block instead of asking again every second for ever."""
    if request.htmx:
        return HttpResponseStopPolling()
    raise Http404("No such job")


def render_page(request: VenueRequest, template: str, fragment: str, context: dict[str, Any]) -> HttpResponse:
    """The full page, or for htmx only its `fragment` partial. Always 200 when rendered: htmx
    only swaps 2xx answers, and a banner or form error must be swapped in like any result."""
    name = f"{template}#{fragment}" if request.htmx else template
    response = render(request, name, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# What the venue pages charge for (service kinds), so each paid button can say what it costs.
PAID_KINDS = ("image", "chat", "ocr")

# The banner panels.js shows when an htmx request gets no usable answer (a proxy timeout, a
# crash, a dropped connection): rendered by the same component, its detail filled in by the script.
NO_ANSWER_MESSAGE = (
    "Something went wrong on our side. Check your Library in a minute; if it isn't there, reload "
    "the page and try again. Requests that fail are never charged."
)


def page_context(request: VenueRequest, **extra: Any) -> dict[str, Any]:
    """What every venue page renders with. `new_submission_id` is a callable on purpose: the
    template calls it once per paid form, so each rendered form gets its own fresh id."""
    venue = current_venue(request)
    no_answer = FriendlyError("no_answer", NO_ANSWER_MESSAGE, "no answer from the server")
    return {
        "venue": venue,
        "balance": _balance_when_rendered(venue),
        "new_submission_id": new_request_id,
        "no_answer_error": no_answer,
        "costs": {kind: cost_of(kind) for kind in PAID_KINDS},
        **extra,
    }


def _balance_when_rendered(venue: Venue) -> Callable[[], int]:
    """The balance as a callable the template resolves (once) while rendering: after a paid call
    has charged or refunded, so views never read it a second time to refresh it."""

    @cache
    def current() -> int:
        return balance_of(venue)

    return current


def submission_id(request: VenueRequest) -> str:
    """The posted form's one-time id, passed to the service as the request id: the credit gate
    charges (and so runs) one request id at most once, so a double click without JavaScript or
    a reload of the result page never pays twice. "" when missing or malformed (a new id is
    used). The response always renders a fresh id, so trying again after a failure works."""
    value = request.POST.get("submission", "")
    return value if _SUBMISSION.fullmatch(value) else ""


def show_error(error: FriendlyError, form: forms.Form, context: dict[str, Any], key: str = "error") -> None:
    """Bad input becomes a calm form error; anything else (AI unavailable, out of credits)
    becomes the amber banner under `key`."""
    if error.code in INPUT_ERROR_CODES:
        form.add_error(None, error.user_message)
    else:
        context[key] = error
