"""An AI provider's image answer is checked like an upload: a decompression bomb is not decoded."""

from __future__ import annotations

from resilience.providers.base import image_problem
from tests.composer.images import image_bytes
from tests.composer.test_uploads import _png_header_only


def test_an_answer_of_too_many_pixels_is_unusable_without_being_decoded():
    assert image_problem(_png_header_only(7_000, 7_000)) == "the image is over 40 megapixels"
    assert image_problem(_png_header_only(13_000, 13_000))  # 169 MP: Pillow's own guard refuses it too


def test_an_ordinary_answer_is_usable():
    assert image_problem(image_bytes("PNG", size=(64, 64))) == ""
