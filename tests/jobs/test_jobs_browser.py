"""Jobs in a real browser, with a real worker process beside the live server: Generate shows the
job's progress then the image; a slow chain shows its stages; a reload mid-job still shows it;
a failed job ends in the amber banner."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from composer.models import Asset, Job
from tests.composer.conftest import START_BALANCE
from tests.jobs.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def composer_page(login, live_server, staff, funded, job_backend, worker_process):
    worker_process()
    page = login("sam", "pw-sam")
    page.goto(f"{live_server.url}/composer/")
    return page


def test_generate_shows_progress_then_the_image(composer_page, simulated, screenshot):
    page = composer_page
    page.fill("#id_prompt", "Fresh tagliatelle with wild mushrooms")
    page.get_by_role("button", name="Generate image").click()

    result = page.locator("#image-panel figure.result")
    expect(result.locator("img")).to_be_visible(timeout=45_000)
    asset = Asset.objects.get()
    expect(result).to_contain_text(f"Saved to your Library as #{asset.pk}")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=result.locator("img").element_handle()
    )
    expect(page.locator("#credit-balance")).to_have_text(f"{START_BALANCE - 4} credits")
    expect(page.locator("#image-panel .job-progress")).to_have_count(0)  # the polling stopped
    screenshot("jobs-generate-result")


def test_a_slow_chain_shows_its_stages_and_survives_a_reload(composer_page, chain, screenshot):
    chain("image", "slow-server-error", "slow")  # 2 s and a 500, then a 2 s backup that answers
    page = composer_page
    page.fill("#id_prompt", "Slow-roasted lamb shoulder")
    page.get_by_role("button", name="Generate image").click()

    progress = page.locator("#image-panel .job-progress")
    expect(progress).to_be_visible()
    expect(progress.locator(".job-stage")).to_have_text("Trying Sim slow-server-error…", timeout=30_000)
    expect(progress.locator(".job-elapsed")).to_have_text(re.compile(r"^\d+ s$"))
    screenshot("jobs-progress-first-candidate")
    expect(progress.locator(".job-stage")).to_have_text("Trying a backup…", timeout=15_000)
    expect(page.locator("#image-panel")).not_to_contain_text("Sim slow…")  # never which lab answers

    page.reload()  # leave and come back: the job is still there, where it is
    progress = page.locator("#image-panel .job-progress")
    expect(progress).to_be_visible()
    screenshot("jobs-progress-after-reload")
    expect(page.locator("#image-panel figure.result img")).to_be_visible(timeout=30_000)
    assert Job.objects.get().status == Job.Status.SUCCEEDED
    screenshot("jobs-slow-result")


def test_the_library_shows_a_waiting_job_as_a_placeholder_until_it_is_made(
    login, live_server, staff, funded, simulated, job_backend, worker_process, screenshot
):
    page = login("sam", "pw-sam")  # no worker yet: the job waits in the queue
    page.goto(f"{live_server.url}/composer/")
    page.fill("#id_prompt", "Charred leeks")
    page.get_by_role("button", name="Generate image").click()
    expect(page.locator("#image-panel .job-progress")).to_contain_text("Waiting for a free worker…")

    page.goto(f"{live_server.url}/library/")
    placeholder = page.locator(".asset-card.placeholder")
    expect(placeholder).to_contain_text("Still being made")
    expect(placeholder).to_contain_text("Charred leeks")
    expect(page.locator("#library-results")).not_to_contain_text("Nothing here yet")
    screenshot("jobs-library-placeholder")

    worker_process()  # no reload: the placeholder polls its job and becomes the image's card
    wait_for(lambda: Job.objects.get().status == Job.Status.SUCCEEDED, timeout=45)
    expect(page.locator(".asset-card.placeholder")).to_have_count(0, timeout=10_000)
    card = page.locator(f"#asset-{Job.objects.get().asset_id}")
    expect(card.locator("img")).to_be_visible()
    expect(card).to_contain_text("Charred leeks")
    screenshot("jobs-library-placeholder-became-the-image")


def test_a_failed_job_shows_the_amber_banner(composer_page, chain, screenshot):
    chain("image", "slow-gone")
    page = composer_page
    page.fill("#id_prompt", "Meat pasta, close up")
    page.get_by_role("button", name="Generate image").click()

    expect(page.locator("#image-panel .job-progress")).to_be_visible()
    banner = page.locator("#image-panel .friendly-error")
    expect(banner).to_be_visible(timeout=30_000)
    expect(banner).to_have_class(re.compile(r"\bbanner-amber\b"))
    expect(banner).to_contain_text("We couldn't generate your image right now")
    expect(page.locator("#credit-balance")).to_have_text(f"{START_BALANCE} credits")
    screenshot("jobs-failed-banner")


def test_coming_back_after_the_job_ended_elsewhere_shows_the_image(
    composer_page, live_server, chain, screenshot
):
    chain("image", "slow")  # 2 s: time enough to leave the page
    page = composer_page
    page.fill("#id_prompt", "Lobster roll")
    page.get_by_role("button", name="Generate image").click()
    expect(page.locator("#image-panel .job-progress")).to_be_visible()

    page.goto(f"{live_server.url}/credits/")  # away: nothing on this page follows the job
    wait_for(lambda: Job.objects.get().status == Job.Status.SUCCEEDED, timeout=45)

    page.goto(f"{live_server.url}/composer/")
    result = page.locator("#image-panel figure.result")
    expect(result.locator("img")).to_be_visible()
    expect(result).to_contain_text(f"Saved to your Library as #{Job.objects.get().asset_id}")
    screenshot("jobs-ended-while-away")
    page.reload()  # shown once: after that it lives in the Library
    expect(page.locator("#image-panel figure.result")).to_have_count(0)
