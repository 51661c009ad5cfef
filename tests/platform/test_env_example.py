"""`.env.example` is the operator's list of settings: every variable the code reads must be in it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("bitethemenu", "resilience", "alerts", "credits", "composer")
READ = re.compile(r'(?:env(?:bool|int|float|secret|list)|environ\.get|getenv)\(\s*"([A-Z][A-Z0-9_]+)"')
INTERNAL = {"BTM_TESTING", "TMPDIR"}  # test-runner plumbing, not configuration


def _variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                names |= set(READ.findall(path.read_text()))
    return names - INTERNAL


def test_every_variable_the_code_reads_is_documented_in_env_example():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert _variables_read_by_the_code() - documented == set()


def test_the_scan_finds_the_core_settings():
    # Guards the test above against a regex that silently matches nothing.
    assert {"DATABASE_URL", "SECRET_KEY", "SLACK_ALERTS_WEBHOOK_URL"} <= _variables_read_by_the_code()
