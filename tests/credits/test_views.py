from __future__ import annotations

import re

import pytest

from credits import gate

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_history(venue):
    gate.grant(venue=venue, amount=20, note="Opening <promo>")
    gate.charge(venue=venue, kind="image", request_id="req-1")
    gate.refund(venue=venue, request_id="req-1", note="chain exhausted")
    gate.charge(venue=venue, kind="chat", request_id="req-2")
    gate.capture(venue=venue, request_id="req-2")


def test_an_owner_sees_the_balance_and_the_history_newest_first(client, owner, with_history):
    client.force_login(owner)

    response = client.get("/credits/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="balance">19<' in body
    assert body.index("+4") > body.index("-1")  # the refund (+4) is older than the chat charge (-1)
    assert [e.kind for e in response.context["history"]] == ["charge", "refund", "charge", "grant"]
    assert "Opening &lt;promo&gt;" in body


def test_staff_see_the_balance_and_a_calm_pointer_to_the_owner(client, staff, with_history):
    client.force_login(staff)

    response = client.get("/credits/")

    body = response.content.decode()
    assert 'data-testid="balance">19<' in body
    assert "Ask your venue owner" in body
    assert response.context["history"] is None
    assert "Opening" not in body


def test_a_user_without_a_venue_gets_a_calm_page(client, django_user_model):
    user = django_user_model.objects.create_user(username="nobody", password="pw")
    client.force_login(user)

    response = client.get("/credits/")

    assert response.status_code == 200
    assert "not a member of any venue" in response.content.decode()


def test_an_outsider_sees_only_their_own_venue(client, outsider, with_history, other_venue):
    client.force_login(outsider)

    response = client.get("/credits/")

    assert response.context["venue"] == other_venue
    assert 'data-testid="balance">0<' in response.content.decode()
    assert list(response.context["history"]) == []


def test_the_page_needs_a_login(client):
    response = client.get("/credits/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_page_rejects_post(client, owner):
    client.force_login(owner)
    assert client.post("/credits/").status_code == 405


def test_the_header_shows_the_balance(client, owner, with_history):
    client.force_login(owner)

    body = client.get("/").content.decode()

    assert re.search(r'<a href="/credits/" class="balance"[^>]*>19 credits</a>', body)


def test_the_header_balance_costs_one_query(rf, owner, venue, django_assert_num_queries):
    from credits.context import balance

    request = rf.get("/")
    request.user = owner
    request.venue = venue
    context = balance(request)
    with django_assert_num_queries(1):
        assert context["credit_balance"]() == 0
        assert context["credit_balance"]() == 0


def test_the_header_balance_is_absent_without_a_venue_or_user(rf, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    from credits.context import balance

    request = rf.get("/")
    request.user = AnonymousUser()
    assert balance(request) == {}
    request.user = django_user_model.objects.create_user(username="nobody", password="pw")
    request.venue = None
    assert balance(request)["credit_balance"]() is None


def test_the_owners_history_names_the_work_and_the_request_id_for_support(client, owner, with_history):
    client.force_login(owner)

    body = client.get("/credits/").content.decode()

    assert "Charge · Image" in body and "Refund · Image" in body and "Charge · Caption / text" in body
    assert "(image)" not in body
    assert body.count("Request req-1<") == 2 and "Request req-2<" in body


def test_the_credits_page_is_in_the_main_navigation(client, staff, venue):
    client.force_login(staff)

    body = client.get("/credits/").content.decode()

    assert '<a href="/credits/" aria-current="page">Credits</a>' in body
    assert '<a href="/credits/" aria-current="page">' not in client.get("/composer/").content.decode()


def test_the_history_shows_25_entries_a_page_with_short_request_ids(client, owner, venue):
    gate.grant(venue=venue, amount=100, note="opening")
    for n in range(30):
        gate.charge(venue=venue, kind="chat", request_id=f"0123456789abcdef-{n:02d}")
    client.force_login(owner)

    first = client.get("/credits/").content.decode()
    second = client.get("/credits/?page=2").content.decode()
    beyond = client.get("/credits/?page=99")

    assert first.count('class="entry-') == 25 and "Page 1 of 2" in first and 'rel="next"' in first
    assert second.count('class="entry-') == 6 and "opening" in second and 'rel="prev"' in second
    assert beyond.status_code == 200 and "Page 2 of 2" in beyond.content.decode()  # nearest page, never a 404
    assert "Request 01234567…" in first
    assert 'title="Request ID 0123456789abcdef-29' in first  # the whole id is still there to copy
