"""Model ids and labels: the AI Fallbacks page and PUT /chains refuse what would forge a log line."""

from __future__ import annotations

import pytest

from resilience.chains import CandidateSpec, validate_chain


def _card(**changes: str) -> CandidateSpec:
    return CandidateSpec(**{"label": "OpenAI", "provider": "openai", "model": "gpt-4o", **changes})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("label", "OpenAI\u2028ALERT: Slack webhook rotated"),  # a line separator Slack renders as a break
        ("label", "OpenAI \u202egnitsoh"),  # right-to-left override
        ("model", "gpt-4o\u2029x"),
        ("model", "gpt\u200f4o"),
    ],
)
def test_invisible_line_breaks_and_direction_marks_are_refused(field, value):
    assert field in validate_chain("chat", [_card(**{field: value})])[0]


def test_a_label_with_spaces_and_accents_is_fine():
    assert validate_chain("chat", [_card(label="Café GPT — fallback")]) == {}
