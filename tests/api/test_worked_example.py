"""The seed's worked example, end to end over HTTP, with real provider wire bodies (PROVIDERS.md):

KIE Nano Banana 2 refuses the prompt as sensitive, OpenAI answers 404 model_not_found for the retired
gpt-image-1 → the venue gets the calm 503, keeps its credits, and the super admin sees the alert;
the super admin PUTs the chain to gpt-image-2 and the very next call is a 201. No deploy, no network.
"""

from __future__ import annotations

import base64
import io

import pytest
import responses as responses_lib
from PIL import Image
from responses import matchers

from tests.api.conftest import assert_error, use_chain
from tests.clocks import install_instant_clock

KIE_CREATE = "https://api.kie.ai/api/v1/jobs/createTask"
KIE_POLL = "https://api.kie.ai/api/v1/jobs/recordInfo"
OPENAI_IMAGES = "https://api.openai.com/v1/images/generations"
SECRET = "sk-test-SECRET-0123456789abcdef"
CALM = "We couldn't generate your image right now. Try rephrasing the description, or pick a different style."

TASK = {"code": 200, "msg": "success", "data": {"taskId": "task_nano-banana-2_1765178625768"}}
SENSITIVE = {
    "code": 200,
    "msg": "success",
    "data": {
        "taskId": "task_nano-banana-2_1765178625768",
        "model": "nano-banana-2",
        "state": "fail",
        "param": "{}",
        "resultJson": "",
        "failCode": "422",
        "failMsg": "The input or output was flagged as sensitive. Please try again with different inputs.",
        "costTime": 0,
        "completeTime": None,
    },
}
GONE = {
    "error": {
        "message": "The model `gpt-image-1` does not exist or you do not have access to it.",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }
}


def _png() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def instant_clock(monkeypatch):
    """KIE polls with sleeps: make them instant."""
    install_instant_clock(monkeypatch)


@pytest.fixture
def mocked():
    with responses_lib.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def _chain(openai_model: str) -> dict:
    return {
        "candidates": [
            {"label": "KIE Nano Banana 2", "provider": "kie", "model": "nano-banana-2", "enabled": True},
            {"label": "OpenAI last-ditch", "provider": "openai", "model": openai_model, "enabled": True},
        ]
    }


def test_the_seed_worked_example_over_http(owner_api, admin_api, funded, monkeypatch, instant_clock, mocked):
    monkeypatch.setenv("KIE_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    use_chain("embedding", "ok")  # library indexing stays offline
    assert admin_api.put("/admin/chains/image", _chain("gpt-image-1")).status_code == 200

    mocked.post(KIE_CREATE, json=TASK)
    mocked.get(KIE_POLL, json=SENSITIVE)
    mocked.post(
        OPENAI_IMAGES,
        json=GONE,
        status=404,
        match=[matchers.json_params_matcher({"model": "gpt-image-1"}, strict_match=False)],
    )
    response = owner_api.post("/venues/chez-a/images", {"prompt": "meat pasta with basil"})

    body = assert_error(response, 503, "ai_unavailable")
    assert body["user_message"] == CALM
    assert body["technical_detail"] == (
        "social.generateImage: KIE Nano Banana 2 → safety; OpenAI last-ditch → model_not_found (404)"
    )
    assert SECRET not in response.content.decode()
    credits = owner_api.get("/venues/chez-a/credits").json()
    assert credits["balance"] == 100
    # Held, then refunded exactly once, under the request id the venue was given.
    assert [(e["kind"], e["amount"]) for e in credits["entries"]] == [
        ("refund", 4),
        ("charge", -4),
        ("grant", 100),
    ]
    assert {e["request_id"] for e in credits["entries"][:2]} == {body["request_id"]}

    alerts = admin_api.get("/admin/alerts").json()
    assert alerts["unacknowledged"] == 1
    alert = alerts["items"][0]
    assert (alert["kind"], alert["service"], alert["venue"]) == ("image", "social.generateImage", "chez-a")
    assert alert["request_id"] == body["request_id"]
    assert [(a["label"], a["reason"], a["status_code"]) for a in alert["attempts"]] == [
        ("KIE Nano Banana 2", "safety", None),
        ("OpenAI last-ditch", "model_not_found", 404),
    ]
    assert alert["last_error"].startswith("OpenAI last-ditch → model_not_found (404)")

    # The super admin swaps the retired model for a live one; the next call answers. No deploy.
    assert admin_api.put("/admin/chains/image", _chain("gpt-image-2")).status_code == 200
    mocked.post(KIE_CREATE, json=TASK)
    mocked.get(KIE_POLL, json=SENSITIVE)
    mocked.post(
        OPENAI_IMAGES,
        json={"created": 1, "data": [{"b64_json": _png()}]},
        match=[matchers.json_params_matcher({"model": "gpt-image-2"}, strict_match=False)],
    )
    response = owner_api.post("/venues/chez-a/images", {"prompt": "meat pasta with basil"})

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["credits_charged"] == 4
    assert created["balance"] == 96
    for leg in ("OpenAI", "openai", "gpt-image", "KIE", "kie"):
        assert leg not in response.content.decode()
    assert admin_api.get("/admin/alerts").json()["unacknowledged"] == 1
    entries = owner_api.get("/venues/chez-a/credits").json()["entries"]
    assert [(e["kind"], e["amount"]) for e in entries] == [
        ("charge", -4),
        ("refund", 4),
        ("charge", -4),
        ("grant", 100),
    ]
