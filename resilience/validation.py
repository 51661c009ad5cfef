"""What a model id or a candidate label may hold, checked the same way on every surface.

Both end up in log lines, alert rows, the Alerts inbox and Slack messages, and in database columns
of a fixed size. A line break inside one would forge a log line or a Slack paragraph; 201 characters
would be a database error (a 500) on PostgreSQL. The AI settings page, the API and the AI Fallbacks
page all ask these functions, so they refuse the same things with the same words.
"""

from __future__ import annotations

import unicodedata

from bitethemenu.errors import InvalidInput

# The columns that store them: resilience.models ChainCandidate.model / VenuePrimary.model and
# ChainCandidate.label (a test keeps these equal).
MODEL_ID_MAX_LENGTH = 200
LABEL_MAX_LENGTH = 120

# Characters that change how a line reads without being seen: line and paragraph separators, and
# the bidirectional overrides that make "gpt-4o" display as something else in a log viewer.
_INVISIBLE_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")

CONTROL_CHARACTERS_MESSAGE = "Remove the invisible control characters (a pasted tab, line break or NUL)."


def _has_control_characters(value: str) -> bool:
    return any(ch in _BIDI_CONTROLS or unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value)


def model_id_error(value: str) -> str:
    """Why `value` cannot be a model id ("" when it can). Emptiness is the caller's to word."""
    if _has_control_characters(value):
        return CONTROL_CHARACTERS_MESSAGE
    if any(ch.isspace() for ch in value):
        return "A model id has no spaces."
    if len(value) > MODEL_ID_MAX_LENGTH:
        return f"A model id has at most {MODEL_ID_MAX_LENGTH} characters."
    return ""


def label_error(value: str) -> str:
    """Why `value` cannot be a candidate label ("" when it can). Spaces are fine in a label."""
    if _has_control_characters(value):
        return CONTROL_CHARACTERS_MESSAGE
    if len(value) > LABEL_MAX_LENGTH:
        return f"At most {LABEL_MAX_LENGTH} characters."
    return ""


def clean_model_id(value: str) -> str:
    """`value` stripped, or InvalidInput (422) when it is empty or no model id."""
    value = value.strip()
    if not value:
        raise InvalidInput("Pick a model.", "empty model id")
    if problem := model_id_error(value):
        raise InvalidInput(problem, "model id refused: " + ascii(value[:40]))
    return value
