"""The only way views and API handlers reach venue data.

Each helper either returns what the user may see or raises Http404 — an outsider cannot even
learn that another venue's object exists. One condition per line, so coverage sees each branch.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import Http404

from bitethemenu.models import Membership, Venue


def venues_for_user(user: User | AnonymousUser) -> QuerySet[Venue]:
    if not user.is_authenticated:
        return Venue.objects.none()
    if user.is_superuser:
        return Venue.objects.all()
    return Venue.objects.filter(memberships__user=user)


def get_venue_for_member(user: User | AnonymousUser, slug: str) -> Venue:
    """The venue with this slug if the user belongs to it (superusers belong everywhere)."""
    venue = venues_for_user(user).filter(slug=slug).first()
    if venue is None:
        raise Http404("No such venue")
    return venue


def membership_for(user: User | AnonymousUser, venue: Venue) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, venue=venue).first()


def is_venue_owner(user: User | AnonymousUser, venue: Venue) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    membership = membership_for(user, venue)
    return membership is not None and membership.is_owner
