"""The outbound seam's address guard (SSRF): private, loopback, link-local, multicast, reserved and
cloud-metadata addresses are refused before any connection, on every redirect hop, with one fixed
phrase; the resolved address is pinned, so DNS rebinding cannot reach a private one; hosts the operator
chose (AI_PRIVATE_HOSTS, provider base URLs from the environment) are let through."""

from __future__ import annotations

import ipaddress
import os
import socket
import warnings

import pytest

from bitethemenu import http
from tests.resilience.servers import RawServer, answer

PRIVATE_ADDRESSES = [
    "127.0.0.1",  # loopback
    "10.1.2.3",  # private
    "172.16.0.9",
    "192.168.1.1",
    "169.254.169.254",  # link-local: the cloud metadata endpoint
    "100.64.0.1",  # shared address space (carrier-grade NAT)
    "0.0.0.0",  # unspecified
    "224.0.0.251",  # multicast
    "240.0.0.1",  # reserved
    "::1",
    "fe80::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "ff02::1",  # multicast
]


@pytest.fixture
def no_connect(monkeypatch):
    """Fails the test if the seam opens any connection."""
    attempts: list[tuple] = []

    def refuse(address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"connected to {address}")

    monkeypatch.setattr(http, "create_connection", refuse)
    return attempts


@pytest.fixture
def dns(monkeypatch):
    """Plays DNS: `dns["name"] = ["10.0.0.1", ...]` is what `name` resolves to."""
    table: dict[str, list[str]] = {}
    monkeypatch.setattr(http, "resolve", lambda host, port: [ipaddress.ip_address(a) for a in table[host]])
    return table


def _literal(address: str) -> str:
    return f"[{address}]" if ":" in address else address


@pytest.mark.parametrize("address", PRIVATE_ADDRESSES)
def test_every_private_or_local_address_is_refused_before_connecting(address, no_connect):
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", f"https://{_literal(address)}:8443/v1/models", timeout=2.0)
    assert (info.value.kind, info.value.short) == ("blocked", "refused a private or local address")
    assert no_connect == []


def test_a_host_name_resolving_to_a_private_address_is_refused_and_never_connected(dns, settings):
    settings.AI_PRIVATE_HOSTS = []
    with RawServer(lambda conn, request: answer(conn)) as server:
        dns["llm.example"] = ["127.0.0.1"]
        with pytest.raises(http.OutboundError) as info:
            http.request("GET", f"http://llm.example:{server.port}/v1", timeout=2.0, allow_http=True)
    assert info.value.kind == "blocked" and server.connections == 0


def test_one_private_address_among_public_ones_refuses_the_host(dns, no_connect):
    dns["mixed.example"] = ["93.184.216.34", "10.0.0.7"]
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "https://mixed.example/v1", timeout=2.0)
    assert info.value.kind == "blocked" and no_connect == []


def test_a_public_address_is_connected_to_exactly_as_resolved(dns, monkeypatch):
    dns["api.example"] = ["93.184.216.34"]
    seen = []

    def fake_connect(address, *args, **kwargs):
        seen.append(address)
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(http, "create_connection", fake_connect)
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "https://api.example:8443/v1", timeout=2.0)
    assert info.value.short == "connection refused"
    assert seen == [("93.184.216.34", 8443)]  # the checked address, not the name


@pytest.mark.parametrize("entry", ["llm.example", "llm.example:{port}", "127.0.0.1", "127.0.0.0/8"])
def test_hosts_listed_in_ai_private_hosts_are_reached(entry, dns, settings):
    with RawServer(lambda conn, request: answer(conn)) as server:
        settings.AI_PRIVATE_HOSTS = [entry.format(port=server.port)]
        dns["llm.example"] = ["127.0.0.1"]
        response = http.request("GET", f"http://llm.example:{server.port}/v1", timeout=2.0, allow_http=True)
    assert response.json() == {"ok": True} and server.connections == 1


def test_a_listed_host_port_does_not_open_the_hosts_other_ports(dns, settings):
    with RawServer(lambda conn, request: answer(conn)) as server:
        settings.AI_PRIVATE_HOSTS = [f"llm.example:{server.port + 1}"]
        dns["llm.example"] = ["127.0.0.1"]
        with pytest.raises(http.OutboundError) as info:
            http.request("GET", f"http://llm.example:{server.port}/v1", timeout=2.0, allow_http=True)
    assert info.value.kind == "blocked" and server.connections == 0


def test_a_caller_trusted_host_is_reached(dns, settings):
    settings.AI_PRIVATE_HOSTS = []
    with RawServer(lambda conn, request: answer(conn)) as server:
        dns["proxy.internal"] = ["127.0.0.1"]
        url = f"http://proxy.internal:{server.port}/v1"
        response = http.request(
            "GET", url, timeout=2.0, allow_http=True, trusted_hosts=(http.host_and_port(url),)
        )
    assert response.ok and server.connections == 1


def test_metadata_addresses_stay_refused_even_for_a_trusted_host(dns, no_connect, settings):
    settings.AI_PRIVATE_HOSTS = ["169.254.0.0/16", "metadata.internal"]
    dns["metadata.internal"] = ["169.254.169.254"]
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "http://metadata.internal/latest/meta-data/", timeout=2.0, allow_http=True)
    assert info.value.kind == "blocked" and no_connect == []


def test_a_redirect_to_a_private_address_is_refused_before_connecting(dns, settings):
    settings.AI_PRIVATE_HOSTS = []
    with RawServer(lambda conn, request: answer(conn)) as private:
        target = f"http://127.0.0.1:{private.port}/admin"

        def redirect(conn, request):
            answer(conn, b"", status=f"302 Found\r\nLocation: {target}")

        with RawServer(redirect) as public:
            dns["files.example"] = ["127.0.0.1"]
            url = f"http://files.example:{public.port}/result.png"
            with pytest.raises(http.OutboundError) as info:
                http.request(
                    "GET", url, timeout=2.0, allow_http=True, trusted_hosts=(http.host_and_port(url),)
                )
    assert info.value.kind == "blocked"
    assert public.connections == 1 and private.connections == 0


def test_dns_rebinding_cannot_reach_the_private_address(monkeypatch, settings):
    """The name answers an allowed address for the check, then a private one: the connection goes to
    the checked address. (127.0.0.2, listed as allowed, stands in for a public address.)"""
    settings.AI_PRIVATE_HOSTS = ["127.0.0.2"]
    with RawServer(lambda conn, request: answer(conn, b'{"who": "public"}'), host="127.0.0.2") as public:
        try:
            private = RawServer(lambda conn, request: answer(conn, b'{"who": "private"}'), port=public.port)
        except OSError:
            pytest.skip("the port is taken on 127.0.0.1")
        with private:
            answers = iter([["127.0.0.2"], ["127.0.0.1"], ["127.0.0.1"]])
            monkeypatch.setattr(
                http, "resolve", lambda host, port: list(map(ipaddress.ip_address, next(answers)))
            )
            url = f"http://rebind.example:{public.port}/v1"
            first = http.request("GET", url, timeout=2.0, allow_http=True)
            with pytest.raises(http.OutboundError) as info:
                http.request("GET", url, timeout=2.0, allow_http=True)  # the next lookup says 127.0.0.1
    assert first.json() == {"who": "public"}
    assert info.value.kind == "blocked"
    assert private.connections == 0


def test_an_unresolvable_host_is_a_dns_failure(monkeypatch):
    def fail(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(http, "resolve", fail)
    with pytest.raises(http.OutboundError) as info:
        http.request("GET", "https://nowhere.example/v1", timeout=2.0)
    assert (info.value.kind, info.value.short) == ("dns", "could not resolve host")


def test_a_pooled_connection_obeys_the_current_calls_guard(settings):
    """A keep-alive connection opened while the host was listed is not reused once it is not."""
    keep_alive = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    def script(conn, request):
        conn.sendall(keep_alive)
        while conn.recv(4096):  # further requests on the same connection
            conn.sendall(keep_alive)

    with RawServer(script) as server:
        settings.AI_PRIVATE_HOSTS = ["127.0.0.1"]
        assert http.request("GET", f"{server.url}/a", timeout=2.0, allow_http=True).ok
        settings.AI_PRIVATE_HOSTS = []
        with pytest.raises(http.OutboundError) as info:
            http.request("GET", f"{server.url}/b", timeout=2.0, allow_http=True)
    assert info.value.kind == "blocked" and len(server.requests) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_still_resolves_and_times_calls(dns, settings):
    """gunicorn --preload forks workers from a process that may have used the seam: the resolver
    and watchdog threads do not survive a fork, so the child must start its own."""
    settings.AI_PRIVATE_HOSTS = ["fork.example"]
    dns["fork.example"] = ["127.0.0.1"]
    with RawServer(lambda conn, request: answer(conn)) as server:
        url = f"http://fork.example:{server.port}/v1"
        assert http.request("GET", url, timeout=2.0, allow_http=True).ok  # the parent's threads start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads: we accept it here
            pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                code = 0 if http.request("GET", url, timeout=2.0, allow_http=True).ok else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
