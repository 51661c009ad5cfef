"""API.md "Jobs": `Prefer: respond-async` → 202 + Location + Job; GET …/jobs/{id} and …/jobs;
without the header the call answers 201 / error as before — while its job runs on a real worker."""

from __future__ import annotations

import pytest

from bitethemenu.models import ApiKey
from composer.models import Job
from credits import gate
from tests.api.conftest import ApiClient, assert_error
from tests.jobs.conftest import START_BALANCE

pytestmark = pytest.mark.django_db(transaction=True)

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def staff_api(staff, funded) -> ApiClient:
    return ApiClient(ApiKey.mint(owner=staff, venue=funded)[1])


def test_respond_async_answers_202_with_location_and_a_job_then_the_job_has_the_result(
    job_backend, staff_api, funded, simulated
):
    response = staff_api.post("/venues/chez-a/images", {"prompt": "Fish tacos"}, headers=ASYNC)

    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and job["kind"] == "image" and job["service"] == "social.generateImage"
    assert job["result"] is None and job["error"] is None
    assert response["Location"].endswith(f"/api/v1/venues/chez-a/jobs/{job['id']}")
    assert gate.balance_of(funded) == START_BALANCE - 4  # charged when queued

    job_backend()

    done = staff_api.get(f"/venues/chez-a/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["finished_at"] and done["error"] is None
    assert done["result"]["asset"]["kind"] == "image" and done["result"]["credits_charged"] == 4
    assert done["result"]["balance"] == START_BALANCE - 4
    listed = staff_api.get("/venues/chez-a/jobs?status=succeeded").json()["items"]
    assert [item["id"] for item in listed] == [job["id"]]
    assert staff_api.get("/venues/chez-a/jobs?status=queued").json()["items"] == []


def test_a_failed_job_carries_the_error_shape_and_its_credits_come_back(
    job_backend, staff_api, funded, simulated, chain
):
    chain("chat", "gone")
    job = staff_api.post("/venues/chez-a/text", {"prompt": "Happy hour"}, headers=ASYNC).json()
    job_backend()

    failed = staff_api.get(f"/venues/chez-a/jobs/{job['id']}").json()
    assert failed["status"] == "failed" and failed["result"] is None
    assert failed["error"]["code"] == "ai_unavailable" and failed["error"]["request_id"]
    assert set(failed["error"]) == {"code", "user_message", "technical_detail", "request_id"}
    assert gate.balance_of(funded) == START_BALANCE


def test_another_venues_job_is_404(job_backend, staff_api, other_venue, outsider, simulated):
    gate.grant(venue=other_venue, amount=10, note="t")
    theirs = ApiClient(ApiKey.mint(owner=outsider, venue=other_venue)[1])
    job = theirs.post(f"/venues/{other_venue.slug}/text", {"prompt": "Hi"}, headers=ASYNC).json()
    assert_error(staff_api.get(f"/venues/chez-a/jobs/{job['id']}"), 404, "not_found")
    assert staff_api.get("/venues/chez-a/jobs").json()["items"] == []


def test_without_the_header_the_call_waits_for_the_real_worker_and_answers_201(
    job_backend, worker_process, staff_api, funded, simulated
):
    worker_process()
    response = staff_api.post("/venues/chez-a/images", {"prompt": "Churros"})

    assert response.status_code == 201, response.content[:300]
    body = response.json()
    assert body["asset"]["kind"] == "image" and body["credits_charged"] == 4
    assert body["balance"] == START_BALANCE - 4
    assert Job.objects.get(venue=funded).status == Job.Status.SUCCEEDED


def test_without_the_header_an_exhausted_chain_is_still_a_503_with_the_error_shape(
    job_backend, worker_process, staff_api, funded, chain
):
    chain("image", "gone")
    worker_process()
    body = assert_error(staff_api.post("/venues/chez-a/images", {"prompt": "Nachos"}), 503, "ai_unavailable")
    assert "Our team has been alerted" in body["user_message"]  # a retired model: our problem, not theirs
    assert gate.balance_of(funded) == START_BALANCE


def test_the_openapi_schema_documents_prefer_202_and_the_jobs_paths(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    images = schema["paths"]["/api/v1/venues/{slug}/images"]["post"]
    assert "202" in images["responses"] and "201" in images["responses"]
    assert any(p["name"] == "Prefer" and p["in"] == "header" for p in images["parameters"])
    assert "/api/v1/venues/{slug}/jobs/{job_id}" in schema["paths"]
    assert "/api/v1/venues/{slug}/jobs" in schema["paths"]


def test_a_venue_at_its_jobs_in_flight_cap_gets_429_with_retry_after(
    job_backend, staff_api, funded, simulated, settings
):
    settings.JOBS_IN_FLIGHT_PER_VENUE = 1
    assert staff_api.post("/venues/chez-a/images", {"prompt": "Tacos"}, headers=ASYNC).status_code == 202

    response = staff_api.post("/venues/chez-a/images", {"prompt": "Nachos"}, headers=ASYNC)
    body = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0 and "in progress" in body["user_message"]
    assert gate.balance_of(funded) == START_BALANCE - 4  # only the first was charged
