"""What goes into an AI call and what comes out, whichever provider answers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from alerts.attempts import Attempt

SERVICE_KINDS = ("image", "chat", "ocr", "embedding")
KIND_LABELS = {"image": "Image", "chat": "Chat / Text", "ocr": "OCR", "embedding": "Embedding"}


@dataclass(frozen=True)
class AIRequest:
    """One request to a service kind. Fields unused by a kind stay empty."""

    prompt: str = ""  # image / chat prompt, or the edit instruction
    system: str = ""  # chat: the voice/tone instructions
    style: str = ""  # image: a style preset, folded into the prompt by adapters
    reference_image: bytes | None = None  # image: the venue's own photo, if any
    reference_mime: str = ""
    document: bytes | None = None  # ocr: the menu photo or PDF
    document_mime: str = ""
    inputs: tuple[str, ...] = ()  # embedding: texts to embed

    @property
    def has_reference(self) -> bool:
        return self.reference_image is not None

    def without_reference(self) -> AIRequest:
        return replace(self, reference_image=None, reference_mime="")


@dataclass(frozen=True)
class AIOutput:
    """A usable result. Adapters never return an empty one: that is malformed_response."""

    model: str  # the model id that answered (embeddings: vectors compare only within one model)
    image: bytes | None = None
    image_mime: str = ""
    text: str = ""
    vectors: tuple[tuple[float, ...], ...] = ()
    # Usage as the provider reported it (None = not reported), for cost estimates
    # (resilience.provider_costs): tokens from the wire body's `usage`, images (or OCR pages) made.
    input_tokens: int | None = None
    output_tokens: int | None = None
    images: int | None = None


@dataclass(frozen=True)
class CascadeResult:
    output: AIOutput
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    answered_by: str = ""  # the winning candidate's label: for the super admin only, never the venue
