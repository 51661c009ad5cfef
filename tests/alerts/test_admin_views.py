from __future__ import annotations

import pytest
import responses
from django.urls import reverse

from alerts import notify
from alerts.attempts import Attempt
from alerts.models import Alert
from alerts.record import acknowledge, record_exhaustion

pytestmark = pytest.mark.django_db

INBOX = "/admin/super/alerts/"
WEBHOOK = "https://hooks.slack.test/services/T000/B000/XXXXsecretXXXX"


@pytest.fixture
def admin_client(client, superadmin):
    client.force_login(superadmin)
    return client


def _alert(venue=None, attempts=None, *, kind="image", service="social.generateImage"):
    attempts = attempts or [
        Attempt(
            "OpenAI gpt-image-2",
            "openai",
            "gpt-image-2",
            "failed",
            "model_not_found",
            404,
            "model_not_found",
            120,
        )
    ]
    return record_exhaustion(kind=kind, service=service, venue=venue, attempts=attempts)


def test_the_inbox_url_is_named():
    assert reverse("admin:super-alerts") == INBOX


@pytest.mark.parametrize("persona", ["anonymous", "staff", "is_staff_flag"])
def test_only_superusers_get_in(client, persona, staff):
    if persona == "staff":
        client.force_login(staff)
    if persona == "is_staff_flag":
        staff.is_staff = True
        staff.save(update_fields=["is_staff"])
        client.force_login(staff)
    response = client.get(INBOX)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert client.post(reverse("admin:super-alerts-ack-all")).status_code == 302
    assert Alert.objects.count() == 0


def test_the_inbox_lists_alerts_newest_first_with_the_audit(admin_client, venue, seed_attempts):
    old = _alert(venue, seed_attempts, kind="ocr", service="menu.importFromPhoto")
    new = _alert(venue, seed_attempts)

    response = admin_client.get(INBOX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(f'id="alert-{new.pk}"') < html.index(f'id="alert-{old.pk}"')
    assert ">Image</span>" in html and ">OCR</span>" in html
    assert "menu.importFromPhoto" in html
    # Each leg of the audit in the same words as a summary line.
    assert "KIE Nano Banana 2 → safety: content flagged as sensitive</span>" in html
    assert "OpenAI gpt-image-2 → model_not_found (404): The model `gpt-image-2` does not exist</span>" in html
    assert "KIE Nano Banana Pro → rate_limit (429): too many requests</span>" in html
    assert '<span class="venue" title="Chez A &amp; Co">Chez A &amp; Co</span>' in html
    assert html.count('class="dot"') == 2
    assert "<details>" in html and "<summary>" in html
    assert 'id="alerts-badge"' in html and ">2</span>" in html


def test_the_badge_shows_on_every_admin_page_and_counts_only_open_alerts(admin_client, superadmin):
    alerts = [_alert() for _ in range(3)]
    acknowledge(alert_id=alerts[0].pk, user=superadmin)

    for url in ("/admin/", "/admin/alerts/alert/", INBOX, "/admin/auth/user/"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'id="alerts-badge"' in html and 'title="2 unacknowledged alerts">2</span>' in html, url
        assert 'href="/admin/super/ai-fallbacks/"' in html and 'href="/admin/super/alerts/"' in html


def test_no_badge_when_everything_is_acknowledged(admin_client):
    assert 'id="alerts-badge"' not in admin_client.get("/admin/").content.decode()


def test_the_badge_is_one_count_query(rf, superadmin, django_assert_num_queries):
    from alerts.admin_views import super_admin_context

    request = rf.get("/admin/")
    request.user = superadmin
    with django_assert_num_queries(1):
        assert super_admin_context(request) == {"unacknowledged_alerts": 0}


def test_the_inbox_query_count_does_not_grow_with_rows(
    admin_client, venue, seed_attempts, django_assert_max_num_queries
):
    for _ in range(3):
        _alert(venue, seed_attempts)
    with django_assert_max_num_queries(14) as few:
        admin_client.get(INBOX)
    for _ in range(20):
        _alert(venue, seed_attempts)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(INBOX)


def test_provider_text_and_venue_names_are_escaped(admin_client, venue):
    evil = [
        Attempt(
            "Evil <img src=x onerror=alert(1)>",
            "openai",
            "m<b>",
            "failed",
            "bad_request",
            400,
            "<script>alert('x')</script>",
            5,
        )
    ]
    _alert(venue, evil)
    html = admin_client.get(INBOX).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html and "m<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Chez A &amp; Co" in html

    changelist = admin_client.get("/admin/alerts/alert/").content.decode()
    assert "<script>alert" not in changelist and "&lt;script&gt;" in changelist
    change = admin_client.get(f"/admin/alerts/alert/{Alert.objects.get().pk}/change/").content.decode()
    assert "<script>alert" not in change


def test_acknowledge_from_the_inbox_drops_the_badge(admin_client, superadmin):
    first, _ = _alert(), _alert()
    response = admin_client.post(
        reverse("admin:super-alerts-ack", args=[first.pk]), {"next": INBOX + "?kind=image"}, follow=True
    )
    assert response.redirect_chain[-1][0] == INBOX + "?kind=image"
    first.refresh_from_db()
    assert first.acknowledged_by == superadmin
    html = response.content.decode()
    assert "Alert acknowledged." in html
    assert 'title="1 unacknowledged alert">1</span>' in html


def test_acknowledge_needs_post(admin_client):
    alert = _alert()
    assert admin_client.get(reverse("admin:super-alerts-ack", args=[alert.pk])).status_code == 405
    assert Alert.objects.unacknowledged().count() == 1


def test_acknowledge_all_and_a_missing_alert(admin_client):
    for _ in range(3):
        _alert()
    response = admin_client.post(reverse("admin:super-alerts-ack-all"), follow=True)
    assert "Acknowledged 3 alerts." in response.content.decode()
    assert Alert.objects.unacknowledged().count() == 0
    response = admin_client.post(reverse("admin:super-alerts-ack", args=[999_999]), follow=True)
    assert "That alert no longer exists." in response.content.decode()


def test_next_never_leaves_the_site(admin_client):
    alert = _alert()
    response = admin_client.post(
        reverse("admin:super-alerts-ack", args=[alert.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == INBOX


def test_filters(admin_client, venue, other_venue, settings):
    a = _alert(venue, kind="image", service="social.generateImage")
    b = _alert(other_venue, kind="chat", service="social.writeCaption")
    c = _alert(None, kind="embedding", service="library.search")
    Alert.objects.filter(pk=c.pk).update(slack_status="failed", slack_error="webhook returned 500")
    acknowledge(alert_id=a.pk, user=None)

    def shown(query: str) -> set[int]:
        html = admin_client.get(INBOX + query).content.decode()
        return {x.pk for x in (a, b, c) if f'id="alert-{x.pk}"' in html}

    assert shown("") == {a.pk, b.pk, c.pk}
    assert shown("?status=unacknowledged") == {b.pk, c.pk}
    assert shown("?kind=chat") == {b.pk}
    assert shown("?kind=bogus") == {a.pk, b.pk, c.pk}
    assert shown("?service=library.search") == {c.pk}
    assert shown("?venue=bar-b") == {b.pk}
    assert shown("?venue=-") == {c.pk}
    assert shown("?slack=failed") == {c.pk}
    assert "No alerts match these filters." in admin_client.get(INBOX + "?kind=ocr").content.decode()


def test_pagination_keeps_the_filters(admin_client):
    for _ in range(30):
        _alert()
    first = admin_client.get(INBOX + "?kind=image").content.decode()
    assert first.count('class="alert-row is-open"') == 25
    assert 'href="?kind=image&amp;page=2"' in first
    second = admin_client.get(INBOX + "?kind=image&page=2").content.decode()
    assert second.count('class="alert-row is-open"') == 5


def test_a_404_from_slack_shows_as_disabled_and_the_url_never_appears(
    admin_client, settings, venue, seed_attempts, django_capture_on_commit_callbacks
):
    settings.SLACK_ALERTS_WEBHOOK_URL = WEBHOOK
    with responses.RequestsMock() as rsps:
        rsps.post(WEBHOOK, status=404, body="no_service")
        with django_capture_on_commit_callbacks(execute=True):
            _alert(venue, seed_attempts)
        with django_capture_on_commit_callbacks(execute=True):
            _alert(venue, seed_attempts)
        assert len(rsps.calls) == 1

    html = admin_client.get(INBOX).content.decode()
    assert "Slack disabled: webhook returned 404 no_service" in html
    assert "Re-enable Slack" in html
    assert "XXXXsecret" not in html and "hooks.slack.test" not in html
    assert "XXXXsecret" not in admin_client.get("/admin/alerts/alert/").content.decode()
    assert "Slack failed" in admin_client.get("/admin/alerts/alert/?slack=failed").content.decode()

    response = admin_client.post(reverse("admin:super-alerts-enable-slack"), follow=True)
    assert "Slack alerts re-enabled." in response.content.decode()
    assert notify.channel_state().disabled_at is None


def test_send_test_ping_reports_the_result_inline(admin_client, settings):
    settings.SLACK_ALERTS_WEBHOOK_URL = WEBHOOK
    with responses.RequestsMock() as rsps:
        rsps.post(WEBHOOK, body="ok")
        ok = admin_client.post(reverse("admin:super-alerts-test-ping"), follow=True).content.decode()
        rsps.replace(responses.POST, WEBHOOK, status=410, body="channel_is_archived")
        bad = admin_client.post(reverse("admin:super-alerts-test-ping"), follow=True).content.decode()
        assert len(rsps.calls) == 2  # inline, no retries
    assert "Test ping delivered." in ok
    assert "Slack test ping failed: webhook returned 410 channel_is_archived." in bad
    assert "Slack disabled: webhook returned 410 channel_is_archived" in bad
    assert "XXXXsecret" not in ok + bad


def test_without_a_webhook_the_inbox_says_slack_is_not_configured(admin_client, settings):
    settings.SLACK_ALERTS_WEBHOOK_URL = ""
    html = admin_client.get(INBOX).content.decode()
    assert "not configured" in html and "Send test ping" not in html


def test_the_admin_changelist_action_acknowledges(admin_client, superadmin):
    alerts = [_alert() for _ in range(2)]
    response = admin_client.post(
        "/admin/alerts/alert/",
        {"action": "acknowledge_selected", "_selected_action": [a.pk for a in alerts]},
        follow=True,
    )
    assert "Acknowledged 2 alert(s)" in response.content.decode()
    assert Alert.objects.unacknowledged().count() == 0
    assert admin_client.get("/admin/alerts/alert/add/").status_code == 403


def _badge_counts(queries) -> int:
    return sum(
        1
        for q in queries
        if "COUNT(" in q["sql"].upper()
        and '"alerts_alert"' in q["sql"]
        and '"acknowledged_at" IS NULL' in q["sql"]
    )


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        INBOX,
        "/admin/super/ai-fallbacks/image/",
        "/admin/auth/user/",
        "/admin/alerts/alert/",
        "/admin/password_change/",
    ],
)
def test_every_admin_page_counts_the_badge_with_one_query(admin_client, url, django_assert_max_num_queries):
    _alert()
    with django_assert_max_num_queries(20) as captured:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert 'title="1 unacknowledged alert">1</span>' in response.content.decode()
    assert _badge_counts(captured.captured_queries) == 1


@pytest.mark.parametrize(
    "query", ["?service=a%00b", "?venue=a%00b", "?kind=%00", "?status=%00&slack=%00", "?page=%00"]
)
def test_a_nul_in_a_filter_is_a_calm_400_never_a_500(admin_client, query):
    # The platform refuses NUL in any page's query string (bitethemenu.middleware) before the inbox runs.
    _alert()
    admin_client.raise_request_exception = False
    response = admin_client.get(INBOX + query)
    assert response.status_code == 400
    assert b"can't read" in response.content


@pytest.mark.parametrize("query", ["?page=99999999999999999999", "?service=" + "s" * 5000, "?kind=nonsense"])
def test_crafted_filters_are_ignored_never_a_500(admin_client, query):
    alert = _alert()
    admin_client.raise_request_exception = False
    response = admin_client.get(INBOX + query)
    assert response.status_code == 200
    assert (
        f'id="alert-{alert.pk}"' in response.content.decode()
        or "No alerts match" in response.content.decode()
    )


def test_crafted_posts_never_give_a_500(admin_client):
    alert = _alert()
    admin_client.raise_request_exception = False
    for url, data in [
        (reverse("admin:super-alerts-ack", args=[2**63 - 1]), {}),
        (reverse("admin:super-alerts-ack", args=[alert.pk]), {"next": "\x00"}),
        (reverse("admin:super-alerts-ack-all"), {"next": "//evil.example/"}),
        (reverse("admin:super-alerts-enable-slack"), {"next": "x" * 100_000}),
    ]:
        response = admin_client.post(url, data)
        assert response.status_code == 302, url
        assert not response["Location"].startswith("//evil")
    alert.refresh_from_db()
    assert alert.is_acknowledged


def test_each_acknowledge_button_says_which_alert_it_acknowledges(admin_client):
    alert = _alert(kind="ocr", service="menu.importFromPhoto")
    html = admin_client.get(INBOX).content.decode()
    from django.utils import timezone

    when = timezone.localtime(alert.created_at).strftime("%Y-%m-%d %H:%M:%S")
    assert (
        '>Acknowledge<span class="visually-hidden"> the OCR alert from menu.importFromPhoto at '
        f"{when}</span></button>"
    ) in html


def test_acknowledge_all_leaves_an_alert_that_arrived_after_the_page_loaded(admin_client):
    import re

    seen = [_alert() for _ in range(2)]
    html = admin_client.get(INBOX).content.decode()
    up_to = re.search(r'name="up_to" value="(\d+)"', html).group(1)
    assert up_to == str(seen[-1].pk)
    late = _alert(kind="chat", service="social.writeCaption")  # lands while the admin reads the page

    response = admin_client.post(
        reverse("admin:super-alerts-ack-all"), {"up_to": up_to, "next": INBOX}, follow=True
    )
    html = response.content.decode()
    assert "Acknowledged 2 alerts." in html
    assert "1 new alert arrived after this page was loaded and is still open." in html
    assert list(Alert.objects.unacknowledged()) == [late]
    assert 'title="1 unacknowledged alert">1</span>' in html


@pytest.mark.parametrize("junk", ["", "abc", "-3", "9" * 40])
def test_acknowledge_all_with_a_junk_up_to_acknowledges_everything(admin_client, junk):
    _alert(), _alert()
    response = admin_client.post(reverse("admin:super-alerts-ack-all"), {"up_to": junk}, follow=True)
    assert "Acknowledged 2 alerts." in response.content.decode()
    assert Alert.objects.unacknowledged().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "/admin/alerts/alert/?kind__exact=%00",
        "/admin/alerts/alert/?service=%00",
        "/admin/alerts/slackchannelstate/?%00=1",
        "/admin/resilience/chainrevision/?kind__exact=%00",
        "/admin/resilience/chaincandidate/?provider__exact=%00",
        "/admin/resilience/venueprimary/?kind__exact=%00",
    ],
)
def test_a_nul_in_a_changelist_filter_is_a_400_not_a_500(admin_client, url):
    _alert()
    admin_client.raise_request_exception = False
    assert admin_client.get(url).status_code == 400
    assert admin_client.get(url.split("?")[0] + "?kind__exact=image").status_code in (200, 302)


def test_the_summary_is_the_failure_that_mattered_not_a_trailing_skip(admin_client, venue):

    attempts = [
        Attempt("Primary", "openai", "gpt-4o", "failed", "server", 500, "upstream error", 40),
        Attempt("Slow one", "openrouter", "x", "failed", "timeout", None, "timed out", 9000),
        Attempt(
            "DeepSeek",
            "deepseek",
            "deepseek-v4-flash",
            "skipped",
            "skipped",
            None,
            "DEEPSEEK_API_KEY not set",
        ),
    ]
    alert = record_exhaustion(kind="chat", service="social.writeCaption", venue=venue, attempts=attempts)

    assert alert.last_error == "Primary → server (500): upstream error"
    html = admin_client.get(INBOX).content.decode()
    assert 'title="Primary → server (500): upstream error"' in html
    assert "DeepSeek → skipped: DEEPSEEK_API_KEY not set</span>" in html  # still in the audit


def test_a_chain_with_only_skips_is_summed_up_by_its_first_skip(venue):

    attempts = [
        Attempt("KIE", "kie", "nano-banana-2", "skipped", "skipped", None, "KIE_API_KEY not set"),
        Attempt("OpenAI", "openai", "gpt-image-2", "skipped", "skipped", None, "OPENAI_API_KEY not set"),
    ]
    alert = record_exhaustion(kind="image", service="social.generateImage", venue=venue, attempts=attempts)

    assert alert.last_error == "KIE → skipped: KIE_API_KEY not set"


def test_acknowledge_all_asks_first_and_changes_nothing_until_confirmed(admin_client):
    for _ in range(3):
        _alert()
    newest = _alert()
    later = _alert()  # arrived after the inbox was loaded

    confirm = admin_client.get(reverse("admin:super-alerts-ack-all"), {"up_to": newest.pk, "next": INBOX})

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert 'id="ack-all-count">4<' in html and "Yes, acknowledge 4 alerts" in html
    assert f'name="up_to" value="{newest.pk}"' in html and f'href="{INBOX}"' in html
    assert Alert.objects.unacknowledged().count() == 5
    admin_client.post(reverse("admin:super-alerts-ack-all"), {"up_to": newest.pk, "next": INBOX})
    assert list(Alert.objects.unacknowledged()) == [later]


def test_the_confirmation_never_links_off_site(admin_client):
    _alert()
    html = admin_client.get(
        reverse("admin:super-alerts-ack-all"), {"next": "//evil.example/"}
    ).content.decode()
    assert "evil.example" not in html


def test_the_inbox_filters_by_venue(admin_client, venue, other_venue, seed_attempts):
    mine = _alert(venue, seed_attempts)
    theirs = _alert(other_venue, seed_attempts)

    html = admin_client.get(INBOX, {"venue": venue.slug}).content.decode()

    assert f'id="alert-{mine.pk}"' in html and f'id="alert-{theirs.pk}"' not in html
