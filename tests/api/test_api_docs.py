"""docs/API.md and the served OpenAPI schema list the same endpoints: a new route needs its line in the docs."""

from __future__ import annotations

import re
from pathlib import Path

from bitethemenu.api import api

DOCS = Path(__file__).resolve().parents[2] / "docs" / "API.md"
PREFIX = "/api/v1"
DOCUMENTED = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`", re.MULTILINE)


def served() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {(method.upper(), path.removeprefix(PREFIX)) for path, ops in paths.items() for method in ops}


def documented() -> set[tuple[str, str]]:
    return set(DOCUMENTED.findall(DOCS.read_text()))


def test_every_served_endpoint_is_documented():
    missing = served() - documented()
    assert not missing, f"add these to docs/API.md: {sorted(missing)}"


def test_every_documented_endpoint_is_served():
    stale = documented() - served()
    assert not stale, f"docs/API.md lists endpoints the server does not have: {sorted(stale)}"


def test_the_docs_list_a_real_number_of_endpoints():
    assert len(documented()) >= 20  # the pattern still matches the tables


def test_readme_and_schema_point_to_the_docs_in_this_repository():
    readme = (DOCS.parents[1] / "README.md").read_text()
    assert "docs/API.md" in readme and "shared/API.md" not in readme
    assert "docs/API.md" in api.get_openapi_schema()["info"]["description"]
