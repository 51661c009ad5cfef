"""KIE: the task life cycle, reference uploads and every KIE row of PROVIDERS.md §8."""

from __future__ import annotations

import json

import pytest
import requests
from responses import matchers

from resilience.errors import Reason
from resilience.providers.base import ProviderError
from resilience.types import AIRequest

from .helpers import PNG, SECRET, call, sent_json

CREATE = "https://api.kie.ai/api/v1/jobs/createTask"
POLL = "https://api.kie.ai/api/v1/jobs/recordInfo"
UPLOAD = "https://kieai.redpandaai.co/api/file-base64-upload"
RESULT = "https://tempfile.aiquickdraw.com/r/a.png"
CREATED = {"code": 200, "msg": "success", "data": {"taskId": "task_nano-banana-2_1765178625768"}}


def record(state: str, **extra) -> dict:
    data = {
        "taskId": "task_nano-banana-2_1765178625768",
        "model": "nano-banana-2",
        "state": state,
        "param": "{}",
        "resultJson": "",
        "failCode": "",
        "failMsg": "",
        "costTime": 0,
        "completeTime": None,
    }
    data.update(extra)
    return {"code": 200, "msg": "success", "data": data}


SUCCESS = record("success", resultJson=json.dumps({"resultUrls": [RESULT]}))


def generate(model: str = "nano-banana-2", request: AIRequest | None = None, timeout: float = 60.0):
    return call(
        "kie",
        "image",
        request or AIRequest(prompt="a red fox", style="watercolour"),
        model=model,
        timeout=timeout,
    )


def failure(**kwargs) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        generate(**kwargs)
    assert SECRET not in info.value.short
    return info.value


def test_it_creates_a_task_polls_until_success_and_downloads_the_image(mocked, clock):
    mocked.post(CREATE, json=CREATED, match=[matchers.header_matcher({"Authorization": f"Bearer {SECRET}"})])
    mocked.get(
        POLL,
        json=record("waiting"),
        match=[matchers.query_param_matcher({"taskId": CREATED["data"]["taskId"]})],
    )
    mocked.get(POLL, json=record("generating"))
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG, content_type="image/png")
    output = generate()
    assert output.image == PNG and output.image_mime == "image/png"
    body = sent_json(mocked.calls[0])
    assert body["model"] == "nano-banana-2"
    # Cloudflare in front of KIE may refuse a non-browser User-Agent (error 1010): every hop sends one.
    assert all(
        c.request.headers["User-Agent"].startswith("Mozilla/5.0 (compatible; BiteTheMenu/")
        for c in mocked.calls
    )
    assert body["input"]["prompt"].startswith("a red fox") and "watercolour" in body["input"]["prompt"]
    assert "image_input" not in body["input"]
    assert clock.sleeps == [3.0, 3.0]  # two polls were still running


def test_a_reference_image_is_uploaded_first_and_passed_as_a_url(mocked, settings):
    settings.KIE_UPLOAD_BASE_URL = "https://upload.example"
    uploaded = "https://tempfile.redpandaai.co/xxx/ref.png"
    mocked.post(
        "https://upload.example/api/file-base64-upload",
        json={
            "success": True,
            "code": 200,
            "msg": "File uploaded successfully",
            "data": {"fileName": "ref.png", "downloadUrl": uploaded, "mimeType": "image/png"},
        },
    )
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG)
    generate(request=AIRequest(prompt="our dish", reference_image=PNG, reference_mime="image/png"))
    assert sent_json(mocked.calls[0])["base64Data"].startswith("data:image/png;base64,")
    assert mocked.calls[0].request.headers["User-Agent"].startswith("Mozilla/5.0 (compatible;")
    assert sent_json(mocked.calls[1])["input"]["image_input"] == [uploaded]


def test_the_edit_model_sends_image_urls(mocked):
    mocked.post(
        UPLOAD, json={"success": True, "code": 200, "data": {"downloadUrl": "https://t.example/r.png"}}
    )
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG)
    generate(model="google/nano-banana-edit", request=AIRequest(prompt="x", reference_image=PNG))
    assert sent_json(mocked.calls[1])["input"]["image_urls"] == ["https://t.example/r.png"]


@pytest.mark.parametrize(
    "message",
    [
        "The input or output was flagged as sensitive. Please try again with different inputs.",
        "Content was flagged by the safety system. Try different prompts or inputs.",
        "Invalid prompt: prompt contains prohibited content",
        "Your prompt was caught by our AI moderator. Please adjust it and try again!",
    ],
)
def test_a_failed_task_with_moderation_wording_is_safety(mocked, message):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=record("fail", failCode="422", failMsg=message))
    error = failure()
    assert error.reason == Reason.SAFETY and message in error.short


@pytest.mark.parametrize(
    "fail_code,message,reason",
    [
        ("500", "Internal Error", Reason.SERVER),
        ("500", "Content flagged by upstream during an internal error", Reason.SERVER),  # 5xx is never safety
        ("", "the server is busy", Reason.SERVER),
        ("422", "resolution is not within the range of allowed values", Reason.BAD_REQUEST),
        ("402", "The current credits are insufficient. Please top up.", Reason.QUOTA),
    ],
)
def test_other_failed_tasks_are_classified_by_code_and_wording(mocked, fail_code, message, reason):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=record("fail", failCode=fail_code, failMsg=message))
    assert failure().reason == reason


def test_a_task_still_running_at_the_poll_deadline_is_a_timeout(mocked, clock):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=record("queuing"))
    error = failure(timeout=30.0)
    assert error.reason == Reason.TIMEOUT and "queuing" in error.short
    assert sum(clock.sleeps) == 30.0 and len(mocked.calls) == 1 + 10  # polled every 3 s for 30 s


def test_a_briefly_missing_record_is_tolerated(mocked):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json={"code": 422, "msg": "recordInfo is null", "data": None})
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG)
    assert generate().image == PNG


def test_a_record_that_never_appears_is_not_a_bad_request(mocked):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json={"code": 422, "msg": "recordInfo is null", "data": None})
    error = failure()
    assert error.reason == Reason.SERVER and "not found" in error.short


# Errors arrive as HTTP 200 with the error in the body `code` (PROVIDERS.md §1).
@pytest.mark.parametrize(
    "body,reason",
    [
        (
            {
                "code": 401,
                "msg": "Unauthorized – Authentication failed. Please check that your Authorization and "
                "Content-Type headers are correctly set.",
            },
            Reason.AUTH,
        ),
        ({"code": 402, "msg": "The current credits are insufficient. Please top up."}, Reason.QUOTA),
        ({"code": 433, "msg": "Sub-key usage limit exceeded"}, Reason.QUOTA),
        ({"code": 429, "msg": "Rate limit exceeded"}, Reason.RATE_LIMIT),
        (
            {"code": 422, "msg": "The page does not exist or is not published", "data": None},
            Reason.MODEL_NOT_FOUND,
        ),
        ({"code": 404, "msg": "Not found"}, Reason.MODEL_NOT_FOUND),
        ({"code": 422, "msg": "prompt is required"}, Reason.BAD_REQUEST),
        ({"code": 455, "msg": "Service unavailable, under maintenance"}, Reason.SERVER),
        ({"code": 500, "msg": "This field is required"}, Reason.SERVER),
        ({"code": 501, "msg": "Generation failed"}, Reason.SERVER),
        ({"code": 505, "msg": "Feature disabled"}, Reason.SERVER),
    ],
)
def test_create_task_errors_in_a_200_body(mocked, body, reason):
    mocked.post(CREATE, json=body, status=200)
    error = failure()
    assert error.reason == reason and error.status_code == body["code"]


def test_a_rate_limit_asks_to_wait_ten_seconds(mocked):
    mocked.post(CREATE, json={"code": 429, "msg": "Rate limit exceeded"})
    assert failure().retry_after == 10.0


@pytest.mark.parametrize(
    "status,body,reason",
    [
        (403, "error code: 1010", Reason.AUTH),  # Cloudflare refusing the User-Agent
        (502, "<html><body>Bad gateway</body></html>", Reason.SERVER),
        (429, '{"code":429,"msg":"Rate limit exceeded"}', Reason.RATE_LIMIT),
    ],
)
def test_errors_with_an_http_status(mocked, status, body, reason):
    mocked.post(CREATE, body=body, status=status)
    assert failure().reason == reason


@pytest.mark.parametrize(
    "poll_body",
    [
        record("success", resultJson="{not json"),
        record("success", resultJson=json.dumps({"resultUrls": []})),
    ],
)
def test_a_success_without_a_usable_result_is_malformed(mocked, poll_body):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=poll_body)
    assert failure().reason == Reason.MALFORMED_RESPONSE


def test_a_result_json_object_is_tolerated(mocked):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=record("success", resultJson={"resultUrls": [RESULT]}))
    mocked.get(RESULT, body=PNG)
    assert generate().image == PNG


@pytest.mark.parametrize(
    "body", ["<html>cloudflare</html>", json.dumps({"code": 200, "msg": "success", "data": {}})]
)
def test_a_create_answer_without_a_task_id_is_malformed(mocked, body):
    mocked.post(CREATE, body=body, status=200)
    assert failure().reason == Reason.MALFORMED_RESPONSE


def test_a_download_that_is_not_an_image_is_malformed(mocked):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=b"<html>expired</html>")
    assert failure().reason == Reason.MALFORMED_RESPONSE


def test_a_client_side_timeout_is_a_timeout(mocked):
    mocked.post(CREATE, body=requests.exceptions.ConnectTimeout())
    error = failure()
    assert (error.reason, error.short) == (Reason.TIMEOUT, "timed out")


def test_the_key_is_never_echoed_into_the_error(mocked):
    mocked.post(CREATE, json={"code": 401, "msg": f"Invalid key {SECRET} for https://api.kie.ai/x?token=abc"})
    error = failure()
    assert SECRET not in error.short and "token=abc" not in error.short and "https://" not in error.short


# A poll that fails says nothing about the task, which keeps running (and is billed if it succeeds).


def test_a_rate_limited_poll_waits_and_polls_again_instead_of_abandoning_the_task(mocked, clock):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json={"code": 429, "msg": "Rate limit exceeded"})  # recordInfo: ≤ 10 req/s per key
    mocked.get(POLL, body="<html>502 Bad Gateway</html>", status=502)
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG)
    assert generate().image == PNG
    assert sum(1 for c in mocked.calls if c.request.url == CREATE) == 1  # one task, paid for once
    assert clock.sleeps == [10.0, 3.0]  # KIE's 10 s rate-limit window, then the usual interval


def test_polls_that_keep_failing_give_up_with_the_last_error(mocked):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, body="<html>502 Bad Gateway</html>", status=502)
    error = failure()
    assert (error.reason, error.status_code) == (Reason.SERVER, 502)
    assert len(mocked.calls) == 1 + 3


def test_a_permanent_poll_error_is_not_retried(mocked):
    mocked.post(CREATE, json=CREATED)
    mocked.get(POLL, json={"code": 401, "msg": "Unauthorized"})
    assert failure().reason == Reason.AUTH
    assert len(mocked.calls) == 2


def test_a_rate_limit_with_only_an_http_status_still_waits_kies_window(mocked):
    mocked.post(CREATE, body="Too Many Requests", status=429, headers={"Retry-After": "2"})
    assert failure().retry_after == 10.0
    mocked.post(CREATE, body="Too Many Requests", status=429, headers={"Retry-After": "30"})
    assert failure().retry_after == 30.0


@pytest.mark.parametrize("code", ["200", 200.0])
def test_an_envelope_code_sent_as_a_string_is_read(mocked, code):
    mocked.post(CREATE, json={"code": code, "msg": "success", "data": {"taskId": "t1"}})
    mocked.get(POLL, json=SUCCESS)
    mocked.get(RESULT, body=PNG)
    assert generate().image == PNG


def test_an_error_code_sent_as_a_string_is_classified(mocked):
    mocked.post(CREATE, json={"code": "402", "msg": "The current credits are insufficient. Please top up."})
    error = failure()
    assert (error.reason, error.status_code) == (Reason.QUOTA, 402)
