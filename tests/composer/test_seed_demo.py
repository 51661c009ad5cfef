"""seed_demo: DEBUG only, and the demo's "Platform default" works offline through a Demo (offline) candidate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from bitethemenu.models import Venue
from composer import services
from composer.forms import AISettingsForm
from credits import gate
from resilience.chains import load_specs
from resilience.defaults import DEFAULT_CHAINS, DEMO_LABEL
from resilience.models import ChainRevision
from resilience.types import SERVICE_KINDS

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parents[2]


def test_with_debug_off_it_refuses_and_writes_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("seed_demo")

    assert not get_user_model().objects.exists()
    assert not Venue.objects.exists()
    assert [s.label for s in load_specs("image")] == [s.label for s in DEFAULT_CHAINS["image"]]


def test_from_the_command_line_the_refusal_exits_non_zero(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert "only runs with DEBUG on" in done.stderr and "Nothing was changed" in done.stderr
    assert "Demo data ready" not in done.stdout


def test_with_debug_on_it_seeds_the_demo_and_ends_every_chain_offline(settings, capsys):
    settings.DEBUG = True

    call_command("seed_demo")

    venue = Venue.objects.get(slug="demo-bistro")
    assert gate.balance_of(venue) == 200
    for kind in SERVICE_KINDS:
        specs = load_specs(kind)
        assert [s.label for s in specs[:-1]] == [s.label for s in DEFAULT_CHAINS[kind]]
        assert (specs[-1].label, specs[-1].provider, specs[-1].model) == (DEMO_LABEL, "simulated", "ok")
    out = capsys.readouterr().out
    assert "owner / bite-the-menu-demo" in out and "slug demo-bistro" in out


def test_running_it_again_changes_nothing(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    revisions = ChainRevision.objects.count()

    call_command("seed_demo")

    assert ChainRevision.objects.count() == revisions
    assert gate.balance_of(Venue.objects.get(slug="demo-bistro")) == 200
    assert [s.label for s in load_specs("chat")].count(DEMO_LABEL) == 1


def test_the_owner_on_platform_default_generates_offline(settings, tmp_path):
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    venue = Venue.objects.get(slug="demo-bistro")
    owner = get_user_model().objects.get(username="owner")

    image = services.generate_image(venue=venue, user=owner, prompt="Steak frites, bistro table")
    caption = services.write_caption(venue=venue, user=owner, prompt="Steak night is back")

    assert image.asset.image and caption.asset.text
    assert gate.balance_of(venue) == 200 - gate.cost_of("image") - gate.cost_of("chat")


def _offered(form: AISettingsForm, kind: str) -> list[str]:
    return [value for _group, options in form.fields[kind].choices[1:] for value, _label in options]


def test_owners_in_production_never_see_the_simulated_failure_models(settings):
    settings.DEBUG = False
    settings.TESTING = False
    settings.SIMULATED_PROVIDER_ENABLED = True  # a demo deployment

    offered = _offered(AISettingsForm(current={}), "image")

    assert "simulated:ok" in offered
    assert not [v for v in offered if v.startswith("simulated:") and v != "simulated:ok"]
    assert (DEMO_LABEL + " · ok") in str(AISettingsForm(current={}).fields["image"].choices)


def test_in_debug_the_failure_models_are_there_to_demo_the_fallbacks(settings):
    settings.DEBUG = True

    assert "simulated:rate-limit" in _offered(AISettingsForm(current={}), "image")
