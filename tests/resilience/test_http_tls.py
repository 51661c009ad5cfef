"""HTTPS through the pinned connection: the seam connects to the address it checked, yet TLS still
sends the host name (SNI) and verifies the certificate against it; and a TLS handshake dribbled by the
server cannot outlast the call's budget. Real sockets on 127.0.0.1 with a throwaway certificate."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import time

import pytest

from bitethemenu import http
from tests.resilience.servers import RawServer, answer, dribble, elapsed_since

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")


def certificate(directory, name: str) -> tuple[str, str]:
    """A self-signed certificate for `name` (cert, key paths)."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={name}"]
        + ["-addext", f"subjectAltName=DNS:{name}"],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def https_server(tmp_path, monkeypatch, settings):
    """An HTTPS server on 127.0.0.1 presenting a certificate for `cert_name`, reached as `tls.example`
    (DNS played by the test); the seam trusts that certificate for the test."""
    settings.AI_PRIVATE_HOSTS = ["tls.example"]
    monkeypatch.setattr(http, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])

    def start(cert_name: str) -> RawServer:
        cert, key = certificate(tmp_path, cert_name)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        server = RawServer(lambda conn, request: answer(conn), tls=context)
        server.server_names = []
        context.sni_callback = lambda sock, name, ctx: server.server_names.append(name)
        monkeypatch.setattr(http._session, "verify", cert)
        return server

    return start


def test_the_pinned_connection_still_sends_sni_and_verifies_the_host_name(https_server):
    with https_server("tls.example") as server:
        response = http.request("GET", f"https://tls.example:{server.port}/v1", timeout=5.0)
    assert response.json() == {"ok": True}
    assert server.server_names == ["tls.example"]
    assert f"Host: tls.example:{server.port}".encode() in server.requests[0]


def test_a_certificate_for_another_name_is_refused(https_server):
    with https_server("other.example") as server:
        with pytest.raises(http.OutboundError) as info:
            http.request("GET", f"https://tls.example:{server.port}/v1", timeout=5.0)
    assert (info.value.kind, info.value.short) == ("tls", "TLS handshake failed")


def test_a_dribbled_tls_handshake_is_cut_at_the_budget(settings):
    settings.AI_PRIVATE_HOSTS = ["127.0.0.1"]

    def stall(conn, request):
        conn.recv(4096)  # the ClientHello
        # A handshake record announcing 16 KiB, then its bytes one by one: each read gets a byte in
        # time, so only a budget for the whole call ends it.
        conn.sendall(b"\x16\x03\x03\x40\x00")
        dribble(server, conn, b"\x02" * 200, every=0.2)

    with RawServer(stall, read_head=False) as server:
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            http.request("GET", f"https://127.0.0.1:{server.port}/v1", timeout=1.0)
    assert info.value.kind == "timeout" and elapsed_since(started) <= 1.3
