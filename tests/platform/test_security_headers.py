"""Every page carries a Content-Security-Policy and a Permissions-Policy; no template relies on
inline script the policy would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/api/v1/docs", "/admin/login/"])
def test_pages_carry_csp_and_permissions_policy(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    # Only this origin (and a nonce when the page rendered one): no unsafe-inline, no eval.
    assert re.search(r"script-src 'self'( 'nonce-[\w+/=-]+')?(;|$)", policy)
    assert "frame-ancestors 'none'" in policy
    assert (
        "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    )


def test_no_template_has_an_inline_event_handler_or_an_inline_script_without_the_nonce():
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        if INLINE_HANDLER.search(text):
            offenders.append(f"{template}: inline event handler")
        for tag in INLINE_SCRIPT.findall(text):
            if "csp_nonce" not in tag:
                offenders.append(f"{template}: {tag}")
    assert offenders == []
