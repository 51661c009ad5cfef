"""A chain candidate's env key names only variables the operator allows (issue 14, item 1): checked on
the AI Fallbacks page, by the API and at call time, where a disallowed name is never read."""

from __future__ import annotations

import pytest

from resilience import cascade, chains
from resilience.chains import CandidateSpec, validate_chain
from resilience.env_keys import env_key_allowed
from resilience.errors import ChainExhausted
from resilience.types import AIRequest

from .test_providers import OPENAI, chat_completion

PLATFORM_SECRETS = ["SECRET_KEY", "DATABASE_URL", "SLACK_ALERTS_WEBHOOK_URL", "REDIS_URL", "SECRET_KEY_FILE"]


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("OPENAI_API_KEY", True),  # a provider's own
        ("KIE_API_KEY", True),
        ("MY_LAB_API_KEY", True),  # shaped like a key
        ("OPENAI_COMPATIBLE_API_KEY", True),
        ("HOME", False),
        ("PGPASSWORD", False),
        ("AWS_SECRET_ACCESS_KEY", False),
        ("", False),
        *[(name, False) for name in PLATFORM_SECRETS],
    ],
)
def test_only_provider_key_names_are_allowed_by_default(name, allowed):
    assert env_key_allowed(name) is allowed


def test_the_operator_may_allow_extra_names_but_never_a_platform_setting(settings):
    settings.AI_EXTRA_ENV_KEYS = ["OLLAMA_TOKEN", "SECRET_KEY", "DATABASE_URL"]
    assert env_key_allowed("OLLAMA_TOKEN")
    assert not env_key_allowed("SECRET_KEY")
    assert not env_key_allowed("DATABASE_URL")


@pytest.mark.parametrize("name", PLATFORM_SECRETS + ["HOME"])
def test_validate_chain_puts_a_disallowed_name_on_the_card(name):
    errors = validate_chain("chat", [CandidateSpec("Mine", "openai", "gpt-4o", env_key=name)])
    assert set(errors[0]) == {"env_key"}
    assert "_API_KEY" in errors[0]["env_key"]


@pytest.mark.django_db
def test_the_admin_page_refuses_it_and_saves_nothing(client, superadmin):
    from resilience.models import ChainCandidate

    client.force_login(superadmin)
    before = list(ChainCandidate.objects.filter(kind="chat").values_list("pk", flat=True))
    data = {
        "uid": ["c0"],
        "label": ["Capture"],
        "provider": ["openai"],
        "model_choice": ["gpt-4o"],
        "model_other": [""],
        "enabled": ["1"],
        "env_key": ["SECRET_KEY"],
        "base_url": ["https://attacker.example/v1"],
        "notes": [""],
    }
    response = client.post("/admin/super/ai-fallbacks/chat/", data)
    assert response.status_code == 422
    assert "AI_EXTRA_ENV_KEYS" in response.content.decode()
    assert list(ChainCandidate.objects.filter(kind="chat").values_list("pk", flat=True)) == before


@pytest.mark.django_db
def test_the_api_refuses_it_with_a_422(superadmin):
    from bitethemenu.models import ApiKey
    from tests.api.conftest import ApiClient, assert_error

    api = ApiClient(ApiKey.mint(owner=superadmin)[1])
    body = {
        "candidates": [
            {
                "label": "Capture",
                "provider": "openai",
                "model": "gpt-4o",
                "enabled": True,
                "env_key": "DATABASE_URL",
            }
        ]
    }
    error = assert_error(api.put("/admin/chains/chat", body), 422, "invalid_input")
    assert "candidates[0].env_key" in error["technical_detail"]


def test_a_saved_row_with_a_disallowed_name_shows_skipped_and_is_never_read(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "the-django-secret-key-value")
    spec = CandidateSpec("Old row", "openai", "gpt-4o", env_key="SECRET_KEY")
    assert chains.skip_reason(spec) == "env key not allowed"


@pytest.mark.django_db
def test_at_call_time_a_disallowed_name_is_skipped_and_its_value_never_sent(
    venue, chain, mocked, monkeypatch, settings
):
    """A row saved before the rule (or written around it): the cascade skips it, and the next
    candidate answers — without the secret ever leaving the server."""
    monkeypatch.setenv("SLACK_ALERTS_WEBHOOK_URL", "https://hooks.slack.test/services/T/B/secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-real-key-0123456789")
    rows = chain(
        "chat",
        [
            {
                "label": "Capture",
                "provider": "openai",
                "model": "gpt-4o",
                "env_key": "SLACK_ALERTS_WEBHOOK_URL",
                "base_url": "https://attacker.example/v1",
            },
            ("OpenAI", "openai", "gpt-4o-mini"),
        ],
    )
    assert rows[0].is_ready is False
    mocked.post(f"{OPENAI}/chat/completions", json=chat_completion("Hi"))  # attacker.example: not registered

    result = cascade.run("chat", AIRequest(prompt="hello"), venue=venue, service="social.writeCaption")

    assert result.output.text == "Hi"
    assert (result.attempts[0].outcome, result.attempts[0].message) == ("skipped", "env key not allowed")
    sent = mocked.calls[0].request
    assert "hooks.slack.test" not in sent.headers["Authorization"]


@pytest.mark.django_db
def test_a_chain_of_only_disallowed_names_exhausts_calmly(venue, chain, mocked, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:db-password@db/x")
    chain("chat", [{"label": "Capture", "provider": "openai", "model": "gpt-4o", "env_key": "DATABASE_URL"}])
    with pytest.raises(ChainExhausted) as info:
        cascade.run("chat", AIRequest(prompt="hello"), venue=venue, service="social.writeCaption")
    assert "db-password" not in info.value.technical_detail
    assert len(mocked.calls) == 0
