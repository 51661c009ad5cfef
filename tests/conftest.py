"""Shared personas: owner and staff of venue A, an outsider in venue B, and a super admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from bitethemenu.models import Membership, Venue


@pytest.fixture
def venue(db) -> Venue:
    return Venue.objects.create(name="Chez A & Co", slug="chez-a")


@pytest.fixture
def other_venue(db) -> Venue:
    return Venue.objects.create(name="Bar B", slug="bar-b")


def _member(username: str, venue: Venue, role: str):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    Membership.objects.create(user=user, venue=venue, role=role)
    return user


@pytest.fixture
def owner(venue):
    return _member("olive", venue, Membership.Role.OWNER)


@pytest.fixture
def staff(venue):
    return _member("sam", venue, Membership.Role.STAFF)


@pytest.fixture
def outsider(other_venue):
    return _member("oscar", other_venue, Membership.Role.OWNER)


@pytest.fixture
def superadmin(db):
    return get_user_model().objects.create_superuser(username="root", password="pw-root", email="root@example.com")


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch):
    """Start every test with no provider keys and no Slack webhook in the environment: tests opt in."""
    import os

    for name in list(os.environ):
        if name.endswith("_API_KEY") or name == "SLACK_ALERTS_WEBHOOK_URL":
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
