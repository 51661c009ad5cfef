"""Provider settings are checked at start-up: a bad value stops `manage.py check` with a sentence
that names the environment variable, instead of failing every AI call later."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from resilience.checks import provider_settings

ROOT = Path(__file__).resolve().parents[2]


def messages(settings_errors):
    return [error.msg for error in settings_errors]


def test_the_shipped_defaults_pass():
    assert provider_settings() == []


def test_a_plain_http_base_url_from_the_environment_is_the_operators_choice(settings):
    settings.AI_PROVIDER_BASE_URLS = {**settings.AI_PROVIDER_BASE_URLS, "openai": "http://127.0.0.1:4000/v1"}
    assert provider_settings() == []


@pytest.mark.parametrize(
    "value,problem",
    [
        ("api.openai.com/v1", "must start with https://"),
        ("ftp://proxy.example/v1", "must start with https://"),
        ("https:///v1", "has no host name"),
        ("https://proxy.example:port/v1", "is not a valid URL"),
        ("https://proxy example/v1", "contains spaces"),
    ],
)
def test_a_bad_base_url_names_its_variable(settings, value, problem):
    settings.AI_PROVIDER_BASE_URLS = {**settings.AI_PROVIDER_BASE_URLS, "openrouter": value}
    (error,) = provider_settings()
    assert error.id == "resilience.E001"
    assert error.msg.startswith("OPENROUTER_BASE_URL ") and problem in error.msg


def test_the_kie_upload_host_is_checked_too(settings):
    settings.KIE_UPLOAD_BASE_URL = "kieai.redpandaai.co"
    assert messages(provider_settings()) == [
        "KIE_UPLOAD_BASE_URL must start with https:// (or http:// for a local proxy)."
    ]


def test_timings_must_make_sense(settings):
    settings.AI_ATTEMPT_TIMEOUT = {**settings.AI_ATTEMPT_TIMEOUT, "chat": 0.0, "ocr": 100.0}
    settings.KIE_POLL_INTERVAL = -1.0
    found = messages(provider_settings())
    assert "AI_CHAT_ATTEMPT_TIMEOUT must be more than 0 seconds." in found
    assert "AI_OCR_DEADLINE (90 s) is shorter than AI_OCR_ATTEMPT_TIMEOUT (100 s)." in found
    assert "KIE_POLL_INTERVAL must be more than 0 seconds." in found


def test_manage_py_check_refuses_to_start_and_names_the_variable(tmp_path):
    env = {**os.environ, "DEBUG": "1", "OPENAI_BASE_URL": "api.openai.com/v1"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "OPENAI_BASE_URL must start with https://" in done.stderr
