"""Request bodies over the limit are refused before they are read or written to disk."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import RequestDataTooBig
from django.core.files import uploadhandler
from django.test import RequestFactory

from bitethemenu.body_limits import body_limit_for

MULTIPART = "multipart/form-data; boundary=BoUnDaRy"


class CountingInput(io.BytesIO):
    """A wsgi.input that remembers how much of it anyone read."""

    def __init__(self, data: bytes = b""):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        chunk = super().readline(size)
        self.bytes_read += len(chunk)
        return chunk


def _multipart(size: int) -> bytes:
    return (
        b'--BoUnDaRy\r\nContent-Disposition: form-data; name="username"\r\n\r\nroot\r\n'
        b'--BoUnDaRy\r\nContent-Disposition: form-data; name="f"; filename="x.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * size + b"\r\n--BoUnDaRy--\r\n"
    )


@pytest.fixture
def spooled(monkeypatch):
    """Records every file Django starts writing to a temporary file."""
    started: list[str] = []
    original = uploadhandler.TemporaryFileUploadHandler.new_file

    def new_file(self, *args, **kwargs):
        started.append(args[1] if len(args) > 1 else "?")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "new_file", new_file)
    return started


@pytest.mark.django_db
def test_an_anonymous_400_mb_login_post_is_refused_unread(client, spooled):
    body = CountingInput(_multipart(3 * 1024 * 1024))  # the first 3 MB of the 400 the client announces
    response = client.post(
        "/login/", **{"CONTENT_TYPE": MULTIPART, "CONTENT_LENGTH": str(400 * 1024 * 1024), "wsgi.input": body}
    )
    assert response.status_code == 413
    assert "smaller file" in response.content.decode()
    assert body.bytes_read == 0 and spooled == []


@pytest.mark.django_db
def test_the_admin_is_a_small_body_path_too(client):
    response = client.post(
        "/admin/login/", **{"CONTENT_LENGTH": str(2 * 1024 * 1024), "wsgi.input": CountingInput()}
    )
    assert response.status_code == 413


@pytest.mark.django_db
def test_an_oversized_api_body_is_a_413_in_the_error_shape(client):
    body = CountingInput()
    response = client.post(
        "/api/v1/venues/chez-a/images",
        **{"CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(17 * 1024 * 1024), "wsgi.input": body},
    )
    assert response.status_code == 413 and body.bytes_read == 0
    payload = response.json()
    assert payload["code"] == "payload_too_large" and response["X-Request-ID"] == payload["request_id"]


def test_upload_pages_and_the_api_take_a_10_mib_image_other_pages_do_not():
    ten_mib_as_base64_json = 10 * 1024 * 1024 * 4 // 3 + 1024
    for path in ("/api/v1/venues/x/images", "/composer/image/", "/menu/import/"):
        assert body_limit_for(path) >= ten_mib_as_base64_json
    for path in ("/login/", "/admin/login/", "/settings/ai/", "/library/3/edit/", "/"):
        assert body_limit_for(path) == 1024 * 1024


def test_a_body_read_past_the_limit_stops_the_parse_before_anything_is_spooled(spooled, settings):
    # A body whose length was not declared up front (chunked) is counted as it is read.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # so Django would spool this one to disk
    data = _multipart(3 * 1024 * 1024)
    request = RequestFactory().generic("POST", "/login/", data, content_type=MULTIPART)
    with pytest.raises(RequestDataTooBig):
        request.POST  # noqa: B018 - parsing is what is under test
    assert spooled == []


def test_an_upload_within_the_limit_still_arrives(settings):
    data = _multipart(200 * 1024)
    request = RequestFactory().generic("POST", "/menu/import/", data, content_type=MULTIPART)
    assert request.FILES["f"].size == 200 * 1024 and request.POST["username"] == "root"


def test_the_upload_handler_counts_chunks_when_no_length_was_declared():
    from bitethemenu.body_limits import CappedUploadHandler

    handler = CappedUploadHandler(RequestFactory().post("/login/"))
    handler.handle_raw_input(None, {}, 0, b"BoUnDaRy")
    chunk = b"x" * (64 * 1024)
    for start in range(0, 1024 * 1024, len(chunk)):
        assert handler.receive_data_chunk(chunk, start) == chunk  # passed on to Django's handlers
    with pytest.raises(RequestDataTooBig):
        handler.receive_data_chunk(b"x", 1024 * 1024)
