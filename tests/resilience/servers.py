"""Small misbehaving HTTP servers on 127.0.0.1 for the outbound seam's tests (never the network).

`RawServer(script)` accepts connections in a thread and runs `script(conn, request)` for each, where
`request` is the request head it read; scripts write raw bytes, so a test can dribble a body, stall
the headers or send more than any client should read. Everything stops by itself: the listener closes
when the `with` block ends, and a script gives up as soon as the client hangs up or `stopping` is set.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable

Script = Callable[["socket.socket", bytes], None]


class RawServer:
    def __init__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        read_head: bool = True,
    ):
        self.script = script
        self.tls = tls  # serve HTTPS with this context (its sni_callback may record server names)
        self.read_head = read_head  # False: the script gets the bare connection (e.g. to stall TLS)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(16)
        self.listener.settimeout(0.1)  # the accept loop checks `stopping` this often
        self.port = self.listener.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self.connections = 0
        self.requests: list[bytes] = []
        self.sent = 0  # body bytes the scripts managed to write
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.listener.close()
        self._thread.join(timeout=2)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
        except OSError:
            conn.close()
            return  # the client refused our certificate
        with conn:
            head = b""
            try:
                while self.read_head and b"\r\n\r\n" not in head:
                    data = conn.recv(4096)
                    if not data:
                        return
                    head += data
                if head:
                    self.requests.append(head)
                self.script(conn, head)
            except OSError:
                pass  # the client hung up: what these tests expect


def path_of(request: bytes) -> str:
    return request.split(b" ", 2)[1].decode()


def answer(conn: socket.socket, body: bytes = b'{"ok": true}', *, status: str = "200 OK") -> None:
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n\r\n".encode()
        + body
    )


def dribble(server: RawServer, conn: socket.socket, data: bytes, *, every: float) -> None:
    """Write `data` one byte at a time, `every` seconds apart, until done or the client leaves."""
    for byte in data:
        if server.stopping.wait(every):
            return
        conn.sendall(bytes([byte]))
        server.sent += 1


def stall_connects() -> tuple[socket.socket, list[socket.socket], int]:
    """A listener whose accept queue is full, so a new connect waits for ever (the kernel drops SYNs).
    Returns (listener, the queued sockets, port); the caller closes them."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    queued = []
    for _ in range(2):
        filler = socket.socket()
        filler.settimeout(0.2)
        try:
            filler.connect(("127.0.0.1", port))
        except OSError:
            pass
        queued.append(filler)
    return listener, queued, port


def elapsed_since(started: float) -> float:
    return time.monotonic() - started
