from __future__ import annotations

import base64

import pytest

from bitethemenu.errors import FriendlyError
from composer.uploads import decode_image
from tests.composer.images import PDF_BYTES, image_bytes


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_it_accepts_raw_bytes_base64_and_data_urls(fmt, mime):
    data = image_bytes(fmt)
    encoded = base64.b64encode(data).decode()
    assert decode_image(data) == (data, mime)
    assert decode_image(encoded) == (data, mime)
    assert decode_image(f"data:{mime};base64,{encoded}") == (data, mime)
    assert decode_image(encoded.encode()) == (data, mime)


def test_it_sniffs_the_type_and_ignores_the_declared_one():
    data = image_bytes("JPEG")
    encoded = base64.b64encode(data).decode()
    assert decode_image(f"data:image/png;base64,{encoded}") == (data, "image/jpeg")


def test_it_tolerates_line_breaks_in_base64():
    data = image_bytes("PNG")
    wrapped = base64.encodebytes(data).decode()  # 76-column lines
    assert decode_image(wrapped) == (data, "image/png")


@pytest.mark.parametrize("bad", ["not base64 at all!", "", "data:image/png,rawtext", "QUJD"])
def test_it_rejects_bad_base64_or_non_images_as_invalid_input(bad):
    with pytest.raises(FriendlyError) as caught:
        decode_image(bad)
    assert caught.value.code == "invalid_input"
    assert caught.value.http_status == 422


def test_it_rejects_a_gif():
    with pytest.raises(FriendlyError) as caught:
        decode_image(image_bytes("GIF"))
    assert caught.value.code == "invalid_input"
    assert "PNG, JPEG or WebP" in caught.value.user_message


def test_it_rejects_a_truncated_png_through_pillow_verify():
    data = image_bytes("PNG", size=(64, 64))
    with pytest.raises(FriendlyError) as caught:
        decode_image(data[:40])
    assert caught.value.code == "invalid_input"


def test_it_accepts_a_pdf_only_when_allowed():
    assert decode_image(PDF_BYTES, allow_pdf=True) == (PDF_BYTES, "application/pdf")
    with pytest.raises(FriendlyError) as caught:
        decode_image(PDF_BYTES)
    assert caught.value.code == "invalid_input"


def test_size_is_checked_before_type(settings):
    settings.MAX_IMAGE_BYTES = 1000
    junk = b"\x00" * 1001  # not an image either: size must win
    for payload in (
        junk,
        base64.b64encode(junk).decode(),
        "data:image/png;base64," + base64.b64encode(junk).decode(),
    ):
        with pytest.raises(FriendlyError) as caught:
            decode_image(payload)
        assert caught.value.code == "payload_too_large"
        assert caught.value.http_status == 413


def test_exactly_the_limit_is_accepted(settings):
    data = image_bytes("PNG")
    settings.MAX_IMAGE_BYTES = len(data)
    assert decode_image(base64.b64encode(data).decode())[1] == "image/png"


def test_the_default_limit_is_ten_mebibytes_decoded():
    junk = b"\x00" * (10 * 1024 * 1024 + 1)
    with pytest.raises(FriendlyError) as caught:
        decode_image(base64.b64encode(junk).decode())
    assert caught.value.code == "payload_too_large"


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG whose header claims width×height 1-bit pixels, with almost no pixel data: what a
    decompression bomb looks like to anything that reads only the header (a real one is ~500 KB)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "side", [13_000, 40_000]
)  # 169 MP (the finding) and 1.6 GP (past Pillow's own guard)
def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(side):
    bomb = _png_header_only(side, side)
    assert len(bomb) < 100
    with pytest.raises(FriendlyError) as caught:
        decode_image(bomb)
    assert (caught.value.code, caught.value.http_status) == ("payload_too_large", 413)
    assert "40 megapixels" in caught.value.user_message


def test_an_image_at_the_pixel_limit_is_accepted(settings):
    settings.MAX_IMAGE_PIXELS = 64 * 64
    data = image_bytes("PNG", size=(64, 64))
    assert decode_image(data) == (data, "image/png")
    with pytest.raises(FriendlyError):
        decode_image(image_bytes("PNG", size=(65, 64)))
