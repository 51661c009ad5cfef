"""The auth matrix of API.md: who may call what, and that every refusal has the error shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bitethemenu.models import ApiKey
from tests.api.conftest import ApiClient, assert_error

VENUE_PATH = "/venues/chez-a/credits"
ADMIN_PATH = "/admin/providers"


def test_it_rejects_a_call_without_a_key(venue):
    response = ApiClient(None).get(VENUE_PATH)
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer nope", "Bearer ", "Basic dXNlcjpwdw==", "Bearer " + "x" * 500, "btm_x"]
)
def test_it_rejects_unknown_or_malformed_keys(client, venue, header):
    response = client.get("/api/v1" + VENUE_PATH, headers={"Authorization": header})
    assert_error(response, 401, "unauthorized")


def test_it_rejects_a_revoked_key(owner, venue):
    key, raw = ApiKey.mint(owner=owner, venue=venue)
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert_error(ApiClient(raw).get(VENUE_PATH), 401, "unauthorized")


def test_it_rejects_a_key_of_an_inactive_user(owner, venue, mint):
    raw = mint(owner, venue)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert_error(ApiClient(raw).get(VENUE_PATH), 401, "unauthorized")


def test_it_accepts_a_member_key_and_touches_last_used_at(owner, venue):
    key, raw = ApiKey.mint(owner=owner, venue=venue)
    assert ApiClient(raw).get(VENUE_PATH).status_code == 200
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    assert ApiClient(raw).get(VENUE_PATH).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at == first  # at most one write a minute


def test_it_touches_last_used_at_again_after_a_minute(owner, venue):
    key, raw = ApiKey.mint(owner=owner, venue=venue)
    old = timezone.now() - timedelta(minutes=5)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=old)
    ApiClient(raw).get(VENUE_PATH)
    key.refresh_from_db()
    assert key.last_used_at > old


def test_a_venue_key_on_another_venue_is_not_found(outsider_api, venue):
    assert_error(outsider_api.get(VENUE_PATH), 404, "not_found")


def test_a_key_whose_owner_left_the_venue_is_not_found(owner, venue, mint):
    raw = mint(owner, venue)
    owner.memberships.all().delete()
    assert_error(ApiClient(raw).get(VENUE_PATH), 404, "not_found")


def test_a_superusers_venue_key_acts_for_that_venue(superadmin, venue, mint):
    assert ApiClient(mint(superadmin, venue)).get(VENUE_PATH).status_code == 200


def test_a_platform_key_does_not_act_on_venue_paths(admin_api, venue):
    assert_error(admin_api.get(VENUE_PATH), 403, "forbidden")


@pytest.mark.parametrize("persona", ["owner", "staff"])
def test_venue_keys_are_forbidden_on_admin_paths(request, persona, venue, mint):
    user = request.getfixturevalue(persona)
    assert_error(ApiClient(mint(user, venue)).get(ADMIN_PATH), 403, "forbidden")


def test_a_non_superusers_platform_key_is_forbidden_on_admin_paths(owner, mint):
    assert_error(ApiClient(mint(owner)).get(ADMIN_PATH), 403, "forbidden")


def test_a_superusers_venue_key_is_forbidden_on_admin_paths(superadmin, venue, mint):
    assert_error(ApiClient(mint(superadmin, venue)).get(ADMIN_PATH), 403, "forbidden")


def test_admin_paths_need_a_key(db):
    assert_error(ApiClient(None).get(ADMIN_PATH), 401, "unauthorized")


def test_bearer_calls_need_no_csrf_token(admin_api):
    # ApiClient enforces CSRF checks like a browser would; a bearer key is enough.
    response = admin_api.post("/admin/venues", {"name": "New", "slug": "new", "credits": 0})
    assert response.status_code == 201


def _operations():
    """Every (method, path) the API serves, from its own OpenAPI document, params filled in."""
    from bitethemenu.api import api

    schema = api.get_openapi_schema(path_prefix="")
    values = {"{slug}": "chez-a", "{asset_id}": "1", "{alert_id}": "1", "{kind}": "image", "{job_id}": "1"}
    for path, operations in schema["paths"].items():
        for name, value in values.items():
            path = path.replace(name, value)
        for method in operations:
            yield method, path


OPERATIONS = list(_operations())


def test_the_matrix_covers_every_endpoint_of_api_md():
    assert len(OPERATIONS) == 22  # 13 venue endpoints (2 of them jobs), 9 admin endpoints


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_endpoint_needs_a_key(method, path, venue):
    client = ApiClient(None)
    response = (
        getattr(client, method)(path) if method in ("get", "delete") else getattr(client, method)(path, {})
    )
    assert_error(response, 401, "unauthorized")


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_endpoint_refuses_the_wrong_kind_of_key(method, path, owner, superadmin, venue, mint):
    # Venue paths refuse a platform key; admin paths refuse a venue key: both 403, before any work.
    raw = mint(owner, venue) if path.startswith("/admin/") else mint(superadmin)
    client = ApiClient(raw)
    response = getattr(client, method)(path) if method == "get" else getattr(client, method)(path, {})
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op[1].startswith("/venues/")])
def test_every_venue_endpoint_hides_other_venues(method, path, outsider_api, venue):
    response = (
        getattr(outsider_api, method)(path) if method == "get" else getattr(outsider_api, method)(path, {})
    )
    # bar-b's key on chez-a's path: 404 before the body is read — it cannot learn chez-a exists.
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [op for op in OPERATIONS if op[1].startswith("/venues/")])
def test_every_venue_endpoint_refuses_a_key_whose_owner_left_before_reading_the_body(
    method, path, staff, venue, mint
):
    # The key is still chez-a's, but its owner is no longer a member: 404, whatever the body
    # holds (here an empty one, which a member would get a 422 for), and nothing is charged.
    from credits.gate import balance_of, grant

    grant(venue=venue, amount=10, note="test")
    raw = mint(staff, venue)
    staff.memberships.all().delete()
    client = ApiClient(raw)
    response = getattr(client, method)(path) if method == "get" else getattr(client, method)(path, {})
    assert_error(response, 404, "not_found")
    assert balance_of(venue) == 10


def test_a_key_whose_owner_left_cannot_generate(staff, venue, mint, simulated_chains):
    from composer.models import Asset
    from credits.gate import balance_of, grant

    grant(venue=venue, amount=10, note="test")
    raw = mint(staff, venue)
    staff.memberships.all().delete()
    assert_error(ApiClient(raw).post("/venues/chez-a/images", {"prompt": "Tacos"}), 404, "not_found")
    assert balance_of(venue) == 10
    assert not Asset.objects.exists()


def test_a_key_works_again_when_its_owner_rejoins(staff, venue, mint):
    from bitethemenu.models import Membership

    raw = mint(staff, venue)
    role = staff.memberships.get().role
    staff.memberships.all().delete()
    assert_error(ApiClient(raw).get(VENUE_PATH), 404, "not_found")
    Membership.objects.create(user=staff, venue=venue, role=role)
    assert ApiClient(raw).get(VENUE_PATH).status_code == 200
