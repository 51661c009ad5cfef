"""Turning what a client uploads into image (or PDF) bytes we trust.

One function, used by the pages (file uploads) and the API (base64 / data URLs) alike, so both
surfaces answer the same bad input with the same calm error.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from bitethemenu.errors import FriendlyError, InvalidInput

# Magic bytes → MIME. The declared type (a data URL's, a browser's Content-Type) is never trusted.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_PDF_MAGIC = b"%PDF-"
_PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
_DATA_URL = re.compile(
    r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,", re.IGNORECASE
)
_WHITESPACE = re.compile(rb"\s+")

TOO_LARGE_MESSAGE = "That file is too large. Please upload one under 10 MB."  # photos and menu PDFs alike
NOT_AN_IMAGE_MESSAGE = "That file isn't an image we can use. Please upload a PNG, JPEG or WebP photo."
NOT_A_DOCUMENT_MESSAGE = "That file isn't one we can read. Please upload a PNG, JPEG or WebP photo, or a PDF."
BAD_BASE64_MESSAGE = "We couldn't read that upload. Please try attaching the file again."


def _limit() -> int:
    return settings.MAX_IMAGE_BYTES


def _too_large(size: int) -> FriendlyError:
    return FriendlyError(
        "payload_too_large",
        TOO_LARGE_MESSAGE,
        f"decoded size {size} bytes exceeds the limit of {_limit()} bytes",
        http_status=413,
    )


def _sniff(data: bytes) -> str:
    """The MIME type the bytes' signature claims, or "" when none of ours matches."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(_PDF_MAGIC):
        return "application/pdf"
    return ""


def _decoded_size(b64: bytes) -> int:
    """Exact decoded length of (whitespace-free) base64, computed before decoding it."""
    padding = len(b64) - len(b64.rstrip(b"="))
    return len(b64) * 3 // 4 - min(padding, 2)


def _from_text(text: bytes) -> bytes:
    """Base64 or a base64 data URL → bytes; the size limit is enforced before decoding."""
    stripped = text.strip()
    match = _DATA_URL.match(stripped.decode("ascii", errors="replace"))
    if match:
        if not match.group("b64"):
            raise InvalidInput(BAD_BASE64_MESSAGE, "data URL is not base64-encoded")
        stripped = stripped[match.end() :]
    payload = _WHITESPACE.sub(b"", stripped)
    if not payload:
        raise InvalidInput(BAD_BASE64_MESSAGE, "empty upload")
    size = _decoded_size(payload)
    if size > _limit():
        raise _too_large(size)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(BAD_BASE64_MESSAGE, "invalid base64") from None


def _too_many_pixels(width: int, height: int) -> FriendlyError:
    limit = settings.MAX_IMAGE_PIXELS
    size = f"{width}×{height} pixels" if width else "a decompression bomb"
    return FriendlyError(
        "payload_too_large",
        f"That image is too large. Please upload one under {limit // 1_000_000} megapixels.",
        f"image is {size}, over the limit of {limit} pixels",
        http_status=413,
    )


def _verify_image(data: bytes, mime: str) -> None:
    """Pillow agrees the bytes are a well-formed image of the sniffed format, of at most
    settings.MAX_IMAGE_PIXELS pixels. `Image.open` reads only the header, so the size is known
    before any pixel is decoded: a small file that would unpack to gigabytes is refused unread."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
            if image.width * image.height > settings.MAX_IMAGE_PIXELS:
                raise _too_many_pixels(image.width, image.height)
            image.verify()
    except Image.DecompressionBombError:  # Pillow's own guard (bitethemenu.apps sets it from the setting)
        raise _too_many_pixels(0, 0) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(NOT_AN_IMAGE_MESSAGE, f"{mime} data failed image verification") from None
    if fmt != _PIL_FORMATS[mime]:
        raise InvalidInput(NOT_AN_IMAGE_MESSAGE, f"signature says {mime} but the image decodes as {fmt}")


def decode_image(data: str | bytes, *, allow_pdf: bool = False) -> tuple[bytes, str]:
    """Raw bytes, base64, or a `data:` URL → (bytes, mime), mime one of image/png, image/jpeg,
    image/webp (or application/pdf when `allow_pdf`).

    Raises FriendlyError `payload_too_large` (413) when the decoded size exceeds
    settings.MAX_IMAGE_BYTES — checked before anything about the type — or an image's header says
    it has more than settings.MAX_IMAGE_PIXELS pixels, and `invalid_input` (422)
    for empty input, bad base64, or bytes that are not one of the accepted types (by signature,
    and for images, by Pillow's verify). The messages are calm and name what to upload instead.
    """
    raw = data.encode("ascii", errors="replace") if isinstance(data, str) else bytes(data)
    if isinstance(data, bytes | bytearray | memoryview) and _sniff(raw):
        body = raw
    else:
        if len(raw) > _limit() * 2:  # far beyond any 10 MiB payload, even base64: refuse unread
            raise _too_large(len(raw) * 3 // 4)
        try:
            body = _from_text(raw)
        except FriendlyError as error:
            # Uploaded bytes that are not base64 are taken as the file itself: its size, then its
            # signature, decide (so a 12 MB text file is "too large", a GIF "not an image").
            if error.code != "invalid_input" or isinstance(data, str):
                raise
            body = raw
    if len(body) > _limit():
        raise _too_large(len(body))
    mime = _sniff(body)
    rejection = NOT_A_DOCUMENT_MESSAGE if allow_pdf else NOT_AN_IMAGE_MESSAGE
    if not mime or (mime == "application/pdf" and not allow_pdf):
        raise InvalidInput(rejection, "not a PNG, JPEG or WebP" + (" or PDF" if allow_pdf else "") + " file")
    if mime == "application/pdf":
        return body, mime
    _verify_image(body, mime)
    return body, mime
