"""`manage.py create_api_key`: the key alone on the last line, and clear refusals."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from bitethemenu.models import ApiKey
from tests.api.conftest import ApiClient


def _run(*args) -> str:
    out = StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue().splitlines()[-1]


def test_it_prints_a_working_venue_key_on_the_last_line(owner, venue):
    raw = _run("olive", "--venue", "chez-a")
    key = ApiKey.objects.get()
    assert key.hashed_secret == ApiKey.hash(raw)
    assert raw not in key.hashed_secret
    assert (key.owner, key.venue) == (owner, venue)
    assert ApiClient(raw).get("/venues/chez-a/credits").status_code == 200


def test_a_superuser_gets_a_platform_key(superadmin):
    raw = _run("root")
    assert ApiKey.objects.get().venue is None
    assert ApiClient(raw).get("/admin/providers").status_code == 200


def test_a_superuser_may_have_a_key_for_any_venue(superadmin, venue):
    raw = _run("root", "--venue", "chez-a")
    assert ApiClient(raw).get("/venues/chez-a/credits").status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody",), "No user named 'nobody'"),
        (("olive", "--venue", "nowhere"), "No venue with slug 'nowhere'"),
        (("oscar", "--venue", "chez-a"), "not a member of 'chez-a'"),
        (("olive",), "only superusers get a key without --venue"),
    ],
)
def test_it_refuses_clearly_and_creates_nothing(owner, outsider, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", *args, stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_it_exits_non_zero_from_the_command_line(db, capsys):
    from bitethemenu.management.commands.create_api_key import Command

    # run_from_argv is what manage.py calls: a CommandError becomes stderr and exit status 1.
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "create_api_key", "nobody"])
    assert exit_info.value.code != 0
    assert "No user named 'nobody'" in capsys.readouterr().err
