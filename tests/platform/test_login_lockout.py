"""Login protection (django-axes): repeated failures lock a username and an address out, on the
site's log-in page and the admin's alike; failures are logged without passwords; admins unlock."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog

pytestmark = pytest.mark.django_db
LIMIT = 5  # settings.AXES_FAILURE_LIMIT (LOGIN_FAILURE_LIMIT)


def _fail(client, url: str, username: str, *, ip: str = "203.0.113.7", times: int = 1):
    for _ in range(times):
        response = client.post(url, {"username": username, "password": "wrong-guess"}, REMOTE_ADDR=ip)
    return response


def _log_in(client, url: str, username: str, password: str, *, ip: str = "203.0.113.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_a_username_is_locked_out_after_repeated_failures_even_with_the_right_password(
    client, superadmin, url
):
    assert _fail(client, url, "root", times=LIMIT - 1).status_code == 200  # the form again, calm
    locked = _fail(client, url, "root")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "banner-amber" in body and "try again in 15 minutes" in body
    assert "banner-red" not in body
    # The right password does not help during the lockout, from anywhere.
    assert _log_in(client, url, "root", "pw-root", ip="198.51.100.9").status_code == 429
    assert "_auth_user_id" not in client.session


ADDRESS_LIMIT = 30  # settings.LOGIN_ADDRESS_FAILURE_LIMIT


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_an_address_is_locked_out_whatever_username_it_tries(client, staff, url):
    for number in range(ADDRESS_LIMIT):  # a different username each time: no username reaches its limit
        assert _fail(client, url, f"guess-{number}").status_code == 200
    locked = _log_in(client, url, "sam", "pw-sam")
    assert locked.status_code == 429 and "banner-amber" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert _log_in(client, "/login/", "sam", "pw-sam", ip="198.51.100.9").status_code == 302


def test_one_colleagues_typos_do_not_lock_the_restaurants_shared_address_out(client, staff, owner):
    # Sam mistypes five times from the restaurant's Wi-Fi: Sam is locked out…
    assert _fail(client, "/login/", "sam", times=LIMIT).status_code == 429
    assert _log_in(client, "/login/", "sam", "pw-sam").status_code == 429
    # …and the owner, on the same address, still logs in.
    assert _log_in(client, "/login/", owner.username, f"pw-{owner.username}").status_code == 302


def test_a_success_resets_the_count(client, staff):
    _fail(client, "/login/", "sam", times=LIMIT - 1)
    assert _log_in(client, "/login/", "sam", "pw-sam").status_code == 302
    client.logout()
    assert _fail(client, "/login/", "sam", times=LIMIT - 1).status_code == 200


def test_failures_are_logged_and_recorded_without_the_password(client, caplog):
    with caplog.at_level(logging.INFO, logger="axes"):
        _fail(client, "/login/", "mallory\n2026-12-01 INFO fake line", times=LIMIT)
    assert "wrong-guess" not in caplog.text
    assert "fake line" in caplog.text and "\n2026-12-01 INFO fake line" not in caplog.text  # escaped
    assert AccessFailureLog.objects.count() == LIMIT
    attempt = AccessAttempt.objects.get(username__startswith="mallory")
    assert "wrong-guess" not in attempt.post_data


def test_a_super_admin_unlocks_in_the_admin(client, admin_client, staff):
    _fail(client, "/login/", "sam", times=LIMIT)
    assert _log_in(client, "/login/", "sam", "pw-sam").status_code == 429
    assert admin_client.get("/admin/axes/accessattempt/").status_code == 200
    ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin_client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert _log_in(client, "/login/", "sam", "pw-sam").status_code == 302


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(client, settings, staff):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(LIMIT):
        client.post(
            "/login/",
            {"username": "x", "password": "no"},
            REMOTE_ADDR="10.0.0.2",  # the proxy
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7",  # spoofed left part, real client right
        )
    assert AccessAttempt.objects.filter(ip_address="203.0.113.7").exists()
    # Someone else behind the same proxy still logs in.
    response = client.post(
        "/login/",
        {"username": "sam", "password": "pw-sam"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )
    assert response.status_code == 302
