"""One wall-clock budget and one size cap per outbound call, over real sockets on 127.0.0.1.

Socket timeouts bound each read, not a call: these servers answer, but too slowly or too much — a
body dribbled byte by byte, stalled headers, a slow redirect chain, a connect that never completes,
an endless body — and the seam must give up on time, or at the cap, without reading the rest."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from bitethemenu import http
from tests.resilience.servers import RawServer, answer, dribble, elapsed_since, path_of, stall_connects

SLACK = 0.3  # what a loaded CI machine may add on top of the budget


@pytest.fixture(autouse=True)
def _loopback_is_allowed(settings):
    settings.AI_PRIVATE_HOSTS = ["127.0.0.1"]


def call(url: str, *, timeout: float, max_bytes: int | None = None) -> http.Response:
    return http.request("GET", url, timeout=timeout, max_bytes=max_bytes, allow_http=True)


def test_a_body_dribbled_for_20_s_is_cut_when_a_2_s_budget_ends():
    body = b"x" * 40

    def script(conn, request):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
        dribble(server, conn, body, every=0.5)  # 20 s in all

    with RawServer(script) as server:
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            call(server.url, timeout=2.0)
        elapsed = elapsed_since(started)
    assert (info.value.kind, info.value.short) == ("timeout", "timed out")
    assert elapsed <= 2.0 + SLACK, f"the call lasted {elapsed:.2f}s"
    assert 2 <= server.sent <= 5  # it was reading, one byte each half second, until the budget ended


def test_a_body_without_a_length_cut_at_the_budget_is_a_timeout_not_a_short_answer():
    # Read-until-close: the watchdog's shutdown looks like the end of the body to the HTTP parser.
    def script(conn, request):
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{")
        dribble(server, conn, b'"a": 1}' * 10, every=0.3)

    with RawServer(script) as server:
        with pytest.raises(http.OutboundError) as info:
            call(server.url, timeout=1.0)
    assert info.value.kind == "timeout"


def test_headers_stalled_after_the_status_line_are_cut_at_the_budget():
    def script(conn, request):
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        dribble(server, conn, b"X-Slow: " + b"y" * 100, every=0.3)

    with RawServer(script) as server:
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            call(server.url, timeout=1.0)
    assert info.value.kind == "timeout" and elapsed_since(started) <= 1.0 + SLACK


def test_a_connect_that_never_completes_is_cut_at_the_budget():
    listener, queued, port = stall_connects()
    try:
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            call(f"http://127.0.0.1:{port}/v1", timeout=0.8)
        assert info.value.kind == "timeout" and elapsed_since(started) <= 0.8 + SLACK
    finally:
        for sock in [*queued, listener]:
            sock.close()


def _redirect_chain(hop_delay: float):
    """/0 → /1 → /2 → /3 (three redirects), each hop answering after `hop_delay` seconds."""

    def script(conn, request):
        hop = int(path_of(request).strip("/"))
        if server.stopping.wait(hop_delay):
            return
        if hop < 3:
            answer(conn, b"", status=f"302 Found\r\nLocation: /{hop + 1}")
        else:
            answer(conn, b'{"hop": 3}')

    server = RawServer(script)
    return server


def test_three_redirects_share_one_budget():
    # Four responses of 0.7 s each: 2.8 s in all, more than the 2 s budget although no hop is slow.
    with _redirect_chain(0.7) as server:
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            call(f"{server.url}/0", timeout=2.0)
        elapsed = elapsed_since(started)
    assert info.value.kind == "timeout"
    assert elapsed <= 2.0 + SLACK, f"the redirects took {elapsed:.2f}s"
    assert len(server.requests) == 3  # the third hop was under way when the budget ran out


def test_three_quick_redirects_are_followed_within_the_budget():
    with _redirect_chain(0.05) as server:
        response = call(f"{server.url}/0", timeout=2.0)
    assert response.json() == {"hop": 3} and len(server.requests) == 4


def _endless(chunked: bool):
    """A body of 200 MiB, announced by Content-Length or sent chunked without a length."""
    piece = b"z" * 65536

    def script(conn, request):
        if chunked:
            conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            frame = b"10000\r\n" + piece + b"\r\n"
        else:
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n".encode())
            frame = piece
        for _ in range(3200):
            if server.stopping.is_set():
                return
            conn.sendall(frame)
            server.sent += len(piece)

    server = RawServer(script)
    return server


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_body_stops_at_the_cap_without_being_read(chunked):
    cap = 1024 * 1024
    with _endless(chunked) as server:
        tracemalloc.start()
        try:
            with pytest.raises(http.OutboundError) as info:
                call(server.url, timeout=10.0, max_bytes=cap)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        time.sleep(0.2)  # let the server notice the hang-up
        sent = server.sent
    assert (info.value.kind, info.value.short) == ("too_large", "answer over 1 MiB")
    assert peak < 4 * cap, f"held {peak} bytes for a 1 MiB cap"
    # The server could only fill the socket buffers: most of its 200 MiB was never taken.
    assert sent < 64 * 1024 * 1024


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    def script(conn, request):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n")
        server.stopping.wait(5)  # never sends the body: reading any of it would hang until the budget

    with RawServer(script) as server:
        started = time.monotonic()
        with pytest.raises(http.OutboundError) as info:
            call(server.url, timeout=5.0, max_bytes=4096)
    assert (info.value.kind, info.value.short) == ("too_large", "answer over 4 KiB")
    assert elapsed_since(started) < 1.0


def test_an_answer_within_the_cap_is_returned_whole():
    body = b"[" + b"1," * 40_000 + b"1]"

    def script(conn, request):
        answer(conn, body)

    with RawServer(script) as server:
        response = call(server.url, timeout=5.0, max_bytes=len(body))
    assert response.content == body


def test_a_short_budget_ends_on_time_while_a_longer_one_is_waiting():
    """Calls share one watchdog: a call queued later with an earlier deadline is still cut on time."""
    import threading

    def script(conn, request):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")
        dribble(server, conn, b"x" * 40, every=0.2)

    outcomes: dict[str, float] = {}

    def timed(name: str, budget: float) -> None:
        started = time.monotonic()
        try:
            call(server.url, timeout=budget)
        except http.OutboundError:
            outcomes[name] = elapsed_since(started)

    with RawServer(script) as server:
        long_call = threading.Thread(target=timed, args=("long", 3.0))
        long_call.start()
        time.sleep(0.3)  # the long call's deadline is queued first
        timed("short", 0.5)
        long_call.join()
    assert outcomes["short"] <= 0.5 + SLACK
    assert 3.0 <= outcomes["long"] <= 3.0 + SLACK
