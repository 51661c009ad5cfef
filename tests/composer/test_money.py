"""The paid services and money: the price a venue pays, a result refunded in flight, free kinds and
Idempotency-Keys, metered embeddings, and rate limits (issues 12 and 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bitethemenu import ratelimits
from bitethemenu.errors import FriendlyError
from composer import services
from composer.models import Asset
from credits import gate
from credits.models import Hold, LedgerEntry
from credits.reconcile import refund_stale_holds
from resilience.models import VenuePrimary
from tests.composer.conftest import START_BALANCE

pytestmark = pytest.mark.django_db


def test_the_price_is_the_venues_primary_model(funded, staff, simulated):
    VenuePrimary.objects.create(venue=funded, kind="image", provider="kie", model="nano-banana-pro")
    result = services.generate_image(venue=funded, user=staff, prompt="Soup")  # kie has no key: chain answers
    assert result.credits_charged == 2 * gate.cost_of("image")
    assert gate.balance_of(funded) == START_BALANCE - 2 * gate.cost_of("image")


def test_platform_default_pays_the_kinds_default(funded, staff, simulated):
    assert services.write_caption(venue=funded, user=staff, prompt="Soup").credits_charged == gate.cost_of(
        "chat"
    )


def test_a_result_refunded_while_it_ran_is_discarded_not_delivered_free(
    funded, staff, simulated, monkeypatch, settings
):
    """The reconciler refunds the hold while the call is in flight; then the call succeeds. The
    venue gets a calm error and no asset — never an image it did not pay for."""
    real_run = services.cascade.run

    def slow_run(*args, **kwargs):
        later = timezone.now() + timedelta(seconds=settings.CREDIT_HOLD_TTL_SECONDS + 1)
        assert refund_stale_holds(now=later) == 1
        return real_run(*args, **kwargs)

    monkeypatch.setattr(services.cascade, "run", slow_run)

    with pytest.raises(FriendlyError) as caught:
        services.generate_image(venue=funded, user=staff, prompt="Soup", request_id="slow-call-1")

    assert (caught.value.code, caught.value.http_status) == ("ai_unavailable", 503)
    assert caught.value.request_id == "slow-call-1"
    assert not Asset.objects.exists()
    assert not list((settings.MEDIA_ROOT).rglob("*.png"))  # the file is gone too
    assert gate.balance_of(funded) == START_BALANCE
    assert Hold.objects.get(request_id="slow-call-1").discarded_at is not None


def test_a_free_kinds_request_id_still_runs_once(funded, staff, simulated, settings, monkeypatch):
    settings.CREDIT_COSTS = {**settings.CREDIT_COSTS, "chat": 0}
    runs = []
    real_run = services.cascade.run
    monkeypatch.setattr(
        services.cascade, "run", lambda kind, *a, **k: runs.append(kind) or real_run(kind, *a, **k)
    )

    services.write_caption(venue=funded, user=staff, prompt="Soup", request_id="free-key-123")
    with pytest.raises(FriendlyError) as caught:
        services.write_caption(venue=funded, user=staff, prompt="Soup", request_id="free-key-123")

    assert (caught.value.code, caught.value.http_status) == ("conflict", 409)
    assert runs.count("chat") == 1
    assert Asset.objects.filter(kind="text").count() == 1


def test_a_venue_at_zero_cannot_embed_past_its_free_allowance(venue, simulated, settings):
    settings.CREDIT_FREE_CALLS_PER_DAY = {"embedding": 3}
    for _ in range(3):
        assert services.embed_texts(venue=venue, user=None, inputs=["soup"]).credits_charged == 0
    with pytest.raises(FriendlyError) as caught:
        services.embed_texts(venue=venue, user=None, inputs=["soup"])
    assert caught.value.code == "insufficient_credits"
    # Search stays calm: word matches instead of a bill or an error.
    assert services.search_library(venue=venue, query="soup").word_matches is True
    assert not LedgerEntry.objects.filter(kind="charge").exists()


# --- Rate limits ----------------------------------------------------------------------------------


def test_the_venue_limit_refuses_calmly_and_charges_nothing(funded, staff, simulated, settings):
    settings.RATE_LIMIT_PAID_PER_VENUE = 2
    services.write_caption(venue=funded, user=None, prompt="one")
    services.write_caption(venue=funded, user=None, prompt="two")
    balance = gate.balance_of(funded)

    with pytest.raises(ratelimits.RateLimited) as caught:
        services.write_caption(venue=funded, user=staff, prompt="three")

    error = caught.value
    assert (error.code, error.http_status) == ("rate_limited", 429)
    assert 1 <= error.retry_after <= 60
    assert "nothing was charged" in error.user_message
    assert gate.balance_of(funded) == balance
    assert Asset.objects.count() == 2


def test_the_user_limit_is_separate_from_the_venues(funded, owner, staff, simulated, settings):
    settings.RATE_LIMIT_PAID_PER_ACTOR = 1
    services.write_caption(venue=funded, user=staff, prompt="one")
    with pytest.raises(ratelimits.RateLimited):
        services.write_caption(venue=funded, user=staff, prompt="two")
    services.write_caption(venue=funded, user=owner, prompt="three")  # a colleague is not held back


def test_the_probe_limit_is_per_admin(superadmin, settings):
    settings.RATE_LIMIT_PROBES_PER_ADMIN = 2
    ratelimits.check_probe(user=superadmin)
    ratelimits.check_probe(user=superadmin)
    with pytest.raises(ratelimits.RateLimited) as caught:
        ratelimits.check_probe(user=superadmin)
    assert caught.value.retry_after >= 1


def test_the_page_shows_the_amber_banner(client, funded, staff, simulated, settings):
    settings.RATE_LIMIT_PAID_PER_VENUE = 1
    client.force_login(staff)
    client.post("/composer/caption/", {"prompt": "one"})
    response = client.post("/composer/caption/", {"prompt": "two"})
    html = response.content.decode()
    assert response.status_code == 200
    banner = html.split('data-error-code="rate_limited"')[1].split("</div>")[0]
    assert "going a little fast" in banner and "nothing was charged" in banner
    assert 'class="banner banner-amber friendly-error"' in html
