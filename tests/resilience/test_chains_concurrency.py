"""Two admins saving the same tab at the same moment: both saves succeed, one after the other."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from resilience.chains import CandidateSpec, save_chain
from resilience.models import ChainCandidate, ChainRevision

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_saves_of_one_kind_serialise_and_never_mix():
    chain_a = [CandidateSpec(f"A{i}", "openai", "gpt-4o") for i in range(4)]
    chain_b = [CandidateSpec(f"B{i}", "openrouter", "openai/gpt-4o") for i in range(3)]
    revisions_before = ChainRevision.objects.filter(kind="chat").count()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(specs):
        try:
            for _ in range(5):
                barrier.wait(timeout=10)
                save_chain(kind="chat", specs=specs)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(chain,)) for chain in (chain_a, chain_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    labels = list(
        ChainCandidate.objects.filter(kind="chat").order_by("priority").values_list("label", flat=True)
    )
    assert labels in (["A0", "A1", "A2", "A3"], ["B0", "B1", "B2"])
    assert ChainRevision.objects.filter(kind="chat").count() == revisions_before + 10
    latest = ChainRevision.objects.filter(kind="chat").first()
    assert [c["label"] for c in latest.candidates] == labels


def test_two_editors_of_the_same_revision_racing_one_wins_the_other_is_told():
    from resilience.chains import ChainConflict, latest_revision

    save_chain(kind="ocr", specs=[CandidateSpec("Loaded", "mistral", "mistral-ocr-latest")])
    loaded = latest_revision("ocr").pk
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def editor(label):
        try:
            barrier.wait(timeout=10)
            save_chain(
                kind="ocr",
                specs=[CandidateSpec(label, "mistral", "mistral-ocr-latest")],
                expected_revision=loaded,
            )
            outcomes.append("saved " + label)
        except ChainConflict:
            outcomes.append("conflict")
        except BaseException as exc:  # surfaced below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=editor, args=(label,)) for label in ("Ann", "Bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[0] == "conflict" and sorted(outcomes)[1].startswith("saved ")
    winner = sorted(outcomes)[1].removeprefix("saved ")
    assert list(ChainCandidate.objects.filter(kind="ocr").values_list("label", flat=True)) == [winner]
    assert latest_revision("ocr").candidates[0]["label"] == winner
