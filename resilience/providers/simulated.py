"""The simulated provider: offline, no key, deterministic — for demos, tests and benchmarks.

It follows the real code path (the cascade calls it like any adapter). Model ids say what happens:
- `ok`: succeeds. Image: a real PNG drawn from the prompt (the reference photo, if any, is pasted in);
  chat: a short caption; OCR: a small menu transcription; embedding: 256-dim hashed bag-of-words
  vectors, so texts sharing words have similar vectors (cosine).
- `sensitive`: always refused for safety. `sensitive-with-reference`: refused only when a reference
  image is attached (the text-only retry then succeeds, like most KIE false positives).
- `rate-limit` (429, Retry-After 1 s), `gone` (404 model_not_found), `timeout` (at once), `hang` (uses
  the whole attempt timeout, on resilience.providers.base.CLOCK, then times out), `server-error` (500),
  `empty` (a "success" with no output: malformed_response).
- `slow` (or `slow-<model>`, e.g. `slow-server-error`): waits SLOW_SECONDS (within the attempt's
  timeout), then behaves as `ok` (or as `<model>`) — to watch a job's progress.
Unknown model ids behave as `ok`.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import time
from typing import TYPE_CHECKING

from resilience.errors import Reason
from resilience.providers import base
from resilience.providers.base import Adapter, ProviderError, image_prompt
from resilience.types import AIOutput, AIRequest

if TYPE_CHECKING:
    from PIL import Image

EMBEDDING_DIMENSIONS = 256
IMAGE_SIZE = 384
SLOW_SECONDS = 2.0
_WORD = re.compile(r"[a-z0-9]+")

_FAILURES = {
    "sensitive": (Reason.SAFETY, "The input or output was flagged as sensitive (simulated).", None),
    "rate-limit": (Reason.RATE_LIMIT, "Rate limit exceeded (simulated).", 429),
    "gone": (Reason.MODEL_NOT_FOUND, "The model `gone` does not exist (simulated).", 404),
    "timeout": (Reason.TIMEOUT, "timed out (simulated)", None),
    "server-error": (Reason.SERVER, "Internal server error (simulated).", 500),
    "empty": (Reason.MALFORMED_RESPONSE, "success without output (simulated)", 200),
}


class SimulatedAdapter(Adapter):
    provider_id = "simulated"

    def call(
        self, kind: str, request: AIRequest, *, model: str, base_url: str, api_key: str, timeout: float
    ) -> AIOutput:
        if model == "hang":
            # A provider that never answers: the whole attempt's budget passes, then a timeout.
            base.CLOCK.sleep(timeout)
            raise ProviderError(Reason.TIMEOUT, "timed out (simulated hang)")
        if model == "slow" or model.startswith("slow-"):
            time.sleep(max(0.0, min(SLOW_SECONDS, timeout)))
            model = model.removeprefix("slow").removeprefix("-") or "ok"
        self._maybe_fail(model, request)
        if kind == "image":
            return AIOutput(
                model=model,
                image=render_png(image_prompt(request), request.reference_image),
                image_mime="image/png",
                images=1,
            )
        if kind == "chat":
            return AIOutput(model=model, text=write_caption(request.prompt, request.system))
        if kind == "ocr":
            return AIOutput(model=model, text=read_menu(request.document or b""))
        if kind == "embedding":
            return AIOutput(model=model, vectors=tuple(embed(text) for text in request.inputs))
        raise ProviderError(Reason.BAD_REQUEST, f"unknown kind {kind}")

    def _maybe_fail(self, model: str, request: AIRequest) -> None:
        if model == "sensitive-with-reference" and request.has_reference:
            model = "sensitive"
        if model in _FAILURES:
            reason, short, status = _FAILURES[model]
            retry_after = 1.0 if reason == Reason.RATE_LIMIT else None
            raise ProviderError(reason, short, status, retry_after=retry_after)


def _digest(text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).digest()


def render_png(prompt: str, reference: bytes | None = None) -> bytes:
    """A deterministic PNG for `prompt`: a gradient in colours derived from the prompt, a few
    shapes, and the reference photo pasted in the middle when it decodes."""
    from PIL import Image, ImageDraw

    seed = _digest(prompt)
    top, bottom = seed[0:3], seed[3:6]
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE))
    draw = ImageDraw.Draw(image)
    for y in range(0, IMAGE_SIZE, 4):
        t = y / IMAGE_SIZE
        colour = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.rectangle([0, y, IMAGE_SIZE, y + 3], fill=colour)
    for i in range(4):
        x, y, r = seed[8 + i * 3] + 40, seed[9 + i * 3] + 40, 20 + seed[10 + i * 3] % 50
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(seed[20 + i : 23 + i]))
    if reference:
        _paste_reference(image, reference)
    draw.text((12, IMAGE_SIZE - 24), prompt[:48], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _paste_reference(image: Image.Image, reference: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(reference)) as ref:
            thumb = ref.convert("RGB")
            thumb.thumbnail((IMAGE_SIZE // 2, IMAGE_SIZE // 2))
    except (UnidentifiedImageError, OSError, ValueError):
        return  # an undecodable reference is ignored, as a real model would
    image.paste(thumb, ((IMAGE_SIZE - thumb.width) // 2, (IMAGE_SIZE - thumb.height) // 2))


_OPENERS = ["Fresh from our kitchen:", "Tonight only:", "Made with love:", "You asked, we cooked:"]
_CLOSERS = ["See you soon!", "Book your table today.", "Come hungry.", "Tag a friend who needs this."]


def write_caption(prompt: str, system: str = "") -> str:
    """A deterministic social caption echoing the prompt (tone from `system` ignored but harmless)."""
    seed = _digest(prompt + "\x00" + system)
    subject = " ".join(prompt.split()) or "our dish of the day"
    return f"{_OPENERS[seed[0] % len(_OPENERS)]} {subject}. {_CLOSERS[seed[1] % len(_CLOSERS)]}"


_DISHES = [
    "Tomato soup",
    "Caesar salad",
    "Steak frites",
    "Mushroom risotto",
    "Fish & chips",
    "Margherita pizza",
    "Lemon tart",
    "Crème brûlée",
    "Garden burger",
    "Spaghetti carbonara",
]


def describe_upload(document: bytes) -> str:
    """What the simulated reader can honestly say about the upload: its type, pixel size and file size,
    so a demo shows the file was received and read (not a canned answer)."""
    from PIL import Image, UnidentifiedImageError

    size = f"{len(document) / 1024:.1f} KB"
    if document.startswith(b"%PDF"):
        return f"a PDF of {size}"
    try:
        with Image.open(io.BytesIO(document)) as image:
            return f"a {image.width} × {image.height} {image.format or 'image'} of {size}"
    except (UnidentifiedImageError, OSError, ValueError):
        return f"a file of {size}"


def read_menu(document: bytes) -> str:
    """A deterministic 'transcription': what was uploaded, then four dishes and prices chosen from its bytes."""
    seed = _digest(document)
    lines = ["MENU", f"(Simulated reading of {describe_upload(document)} — no real OCR ran.)"]
    for i in range(4):
        dish = _DISHES[seed[i] % len(_DISHES)]
        price = 6 + seed[i + 8] % 20 + (seed[i + 16] % 2) * 0.5
        lines.append(f"{dish} — {price:.2f}")
    return "\n".join(lines)


def embed(text: str) -> tuple[float, ...]:
    """Hashed bag-of-words, L2-normalised: each word adds ±1 to a bucket chosen by its hash, so texts
    sharing words point the same way. An empty text gets a fixed unit vector."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in _WORD.findall(text.lower()):
        digest = _digest(word)
        bucket = int.from_bytes(digest[:4], "big") % EMBEDDING_DIMENSIONS
        vector[bucket] += 1.0 if digest[4] % 2 == 0 else -1.0
    norm = math.sqrt(sum(x * x for x in vector))
    if norm == 0:
        vector[0], norm = 1.0, 1.0
    return tuple(x / norm for x in vector)
