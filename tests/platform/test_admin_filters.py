"""Query strings a super admin can type (or be sent) never make an admin page a 500."""

from __future__ import annotations

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db

DATE_HIERARCHIES = [
    model_admin for model_admin in admin.site._registry.values() if model_admin.date_hierarchy
]


def _changelist(model_admin) -> str:
    return f"/admin/{model_admin.opts.app_label}/{model_admin.opts.model_name}/"


def test_the_scan_finds_the_date_hierarchies():
    assert len(DATE_HIERARCHIES) >= 3


@pytest.mark.parametrize("model_admin", DATE_HIERARCHIES, ids=_changelist)
@pytest.mark.parametrize(
    "query",
    [
        "year=99999999",
        "year=9999",
        "year=9999&{f}__month=12",
        "year=9999&{f}__month=12&{f}__day=31",
        "year=²",
    ],
)
def test_an_out_of_range_date_hierarchy_year_is_a_calm_bad_filter(admin_client, model_admin, query):
    field = model_admin.date_hierarchy
    response = admin_client.get(_changelist(model_admin) + f"?{field}__" + query.format(f=field))
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("venues", ["²", "1,²,3", "٣", "9" * 40, ",,", "abc"])
def test_the_grant_page_ignores_ids_it_cannot_read(admin_client, venues):
    response = admin_client.get("/admin/credits/wallet/grant/", {"venues": venues})
    assert response.status_code == 200
    assert b"Grant credits" in response.content
