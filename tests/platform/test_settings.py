"""Settings fail loudly on bad values, and production settings pass `check --deploy`."""

from __future__ import annotations

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
