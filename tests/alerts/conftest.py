from __future__ import annotations

import pytest

from alerts.attempts import Attempt


@pytest.fixture
def seed_attempts() -> list[Attempt]:
    """The seed's worked example: the image chain exhausts, every leg with its own reason."""
    return [
        Attempt(
            "KIE Nano Banana 2",
            "kie",
            "nano-banana-2",
            "failed",
            "safety",
            200,
            "content flagged as sensitive",
            812,
        ),
        Attempt(
            "KIE Nano Banana Pro",
            "kie",
            "nano-banana-pro",
            "failed",
            "rate_limit",
            429,
            "too many requests",
            230,
        ),
        Attempt(
            "KIE Nano Banana Edit",
            "kie",
            "google/nano-banana-edit",
            "skipped",
            "skipped",
            None,
            "needs a reference image",
            0,
        ),
        Attempt(
            "OpenAI gpt-image-2",
            "openai",
            "gpt-image-2",
            "failed",
            "model_not_found",
            404,
            "The model `gpt-image-2` does not exist",
            145,
        ),
    ]
