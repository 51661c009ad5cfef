"""Shared personas: owner and staff of venue A, an outsider in venue B, and a super admin."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth import get_user_model
from django.tasks import task_backends
from django.utils.connection import Local

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
    return get_user_model().objects.create_superuser(
        username="root", password="pw-root", email="root@example.com"
    )


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

    from bitethemenu import ratelimits

    cache.clear()
    ratelimits.reset()
    yield
    cache.clear()
    ratelimits.reset()


# --- Browser tests --------------------------------------------------------------------------
# Playwright drives Debian's chromium (Playwright's own browser download does not work here).
# Mark browser tests with @pytest.mark.browser and use the `page` fixture with `live_server`.

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session", autouse=True)
def _no_stray_sessions_when_the_test_database_is_dropped(
    django_db_setup, django_db_blocker
) -> Iterator[None]:
    """PostgreSQL refuses to drop a database someone is connected to. A live-server request thread
    still finishing as the session ends can hold a pooled connection the pool cannot close (it is
    checked out), leaving test_btm_<pid> behind on the server: end such sessions first."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last. Playwright's sync API keeps an event loop running in the main thread for
    the rest of the session (the browser is session-scoped), and Django's test client refuses to call
    an async view (the API's waiting paid calls) from a thread with a running loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def _browser():
    import os

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still synchronous and safe, so let Django allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(_browser):
    context = _browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page, live_server):
    """login(user, password) → the page, logged in through the real login form."""

    def _login(username: str, password: str):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return _login


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves artifacts/<name>.png for the test run's artifacts folder."""

    def _shot(name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return _shot


# --- The real task backend (django.tasks) ---------------------------------------------------------
# The suite runs tasks inline (ImmediateBackend). Tests that use `job_backend` get the backend named
# by TASKS_BACKEND instead (db by default; `TASKS_BACKEND=rq pytest …` for RQ, with Redis at
# TASKS_REDIS_URL, default redis://127.0.0.1:6379/3 — flushed by these tests), drained with that
# backend's own worker code.

TEST_REDIS_URL = os.environ.get("TASKS_REDIS_URL") or "redis://127.0.0.1:6379/3"


def _reset_task_backends() -> None:
    # django.tasks caches its backends; a TASKS override needs fresh ones (as after a restart).
    task_backends.__dict__.pop("settings", None)
    task_backends._connections = Local(task_backends.thread_critical)


@pytest.fixture
def backend_name(settings) -> str:
    return settings.TASKS_BACKEND


@pytest.fixture
def job_backend(settings, backend_name) -> Iterator[Callable[[], None]]:
    """Switch django.tasks to the real backend (db or rq) and give back `drain()`, which runs every
    queued task with that backend's worker code, in this process, then returns."""
    settings.TASKS = {"default": settings.TASK_BACKENDS[backend_name]}
    settings.RQ_QUEUES = {"default": {**settings.RQ_QUEUES["default"], "URL": TEST_REDIS_URL}}
    _reset_task_backends()
    if backend_name == "rq":
        _flush_test_redis()
    yield _drainer(backend_name)
    if backend_name == "rq":
        _flush_test_redis()
    settings.TASKS = {"default": settings.TASK_BACKENDS["immediate"]}
    _reset_task_backends()


def _flush_test_redis() -> None:
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()


def _drainer(backend_name: str) -> Callable[[], None]:
    def drain_db() -> None:
        from django_tasks_db.management.commands.db_worker import Worker

        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()

    def drain_rq() -> None:
        import django_rq
        from django_tasks_rq import Job
        from rq import SimpleWorker

        # SimpleWorker: no fork, so the task sees this test's database connection.
        django_rq.get_worker("default", job_class=Job, worker_class=SimpleWorker).work(burst=True)

    return drain_rq if backend_name == "rq" else drain_db
