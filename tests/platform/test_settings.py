"""Settings fail loudly on bad values, and production settings pass `check --deploy`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from bitethemenu.settings import envbool, envint

ROOT = Path(__file__).resolve().parents[2]


def test_a_typo_in_a_boolean_is_an_error_not_false(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured):
        envbool("SOME_FLAG", default=False)


def test_a_non_number_is_an_error(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured):
        envint("SOME_NUMBER", 3)


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "BTM_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_refuses_to_start():
    result = _manage("check", env={"DEBUG": "false", "ALLOWED_HOSTS": "example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={"DEBUG": "false", "SECRET_KEY": "k" * 60 + "-Zq9!", "ALLOWED_HOSTS": "app.example.com"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _database_settings(**env: str) -> dict[str, object]:
    """DATABASES["default"] as a fresh process would build it from these variables."""
    code = (
        "import json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'bitethemenu.settings');"
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(json.dumps({k: d.get(k) for k in ('ENGINE', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', 'OPTIONS')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_postgresql_gets_a_bounded_connection_pool_not_per_thread_connections():
    # Under ASGI each request has a thread of its own: persistent per-thread connections would
    # pile up past PostgreSQL's max_connections while many calls wait.
    db = _database_settings(DATABASE_URL="postgres://app@db.internal:5432/app", DB_POOL_MAX_SIZE="7")
    assert db["CONN_MAX_AGE"] == 0 and db["CONN_HEALTH_CHECKS"] is True
    assert db["OPTIONS"] == {"pool": {"min_size": 1, "max_size": 7, "timeout": 10.0}}


def test_the_pool_can_be_turned_off_for_pgbouncer():
    db = _database_settings(DATABASE_URL="postgres://app@pgbouncer:6432/app", DB_POOL_MAX_SIZE="0")
    assert db["OPTIONS"] in ({}, None) and db["CONN_MAX_AGE"] == 0


def test_the_pool_keeps_the_options_of_the_database_url():
    # ?sslmode=verify-full must not fall back to libpq's default `prefer` because a pool was added.
    db = _database_settings(
        DATABASE_URL="postgres://app@db.internal:5432/app?sslmode=verify-full&connect_timeout=3"
    )
    options = db["OPTIONS"]
    assert isinstance(options, dict)
    assert options["sslmode"] == "verify-full" and str(options["connect_timeout"]) == "3"
    assert options["pool"]["max_size"] == 10
