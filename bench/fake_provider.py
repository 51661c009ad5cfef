"""Fake OpenAI-compatible chat servers on 127.0.0.1, for the failover benchmark (never the network).

Each server speaks just enough of `POST {base}/chat/completions` (PROVIDERS.md §2, the OpenAI wire
format) for the real `openai_compatible` adapter to parse it. Behaviours:
- "healthy": answers a chat completion after `latency` seconds;
- "hang": accepts the connection and reads the request, then never answers (the caller's timeout fires);
- "overloaded": answers 503 with an OpenAI-shaped error body at once;
- "dribble": answers 200 at once, then sends its body one byte every DRIBBLE_EVERY seconds (a slow
  proxy, a stalled stream): only a wall-clock budget on the whole call stops it;
- "kie-stuck": speaks KIE's task API (PROVIDERS.md §1): createTask succeeds, recordInfo says
  "generating" for ever (a stuck queue);
- a refusing provider needs no server at all: `closed_port()` names a port nothing listens on.
Every healthy answer to `POST {base}/images/generations` is a small PNG (OpenAI's `b64_json` shape).
"""

from __future__ import annotations

import json
import multiprocessing
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Behaviour = Literal["healthy", "hang", "overloaded", "dribble", "kie-stuck"]
DRIBBLE_EVERY = 0.5  # seconds between bytes
DRIBBLE_FOR = 20.0  # seconds: the whole dribble, unless the client gives up first


def chat_completion(model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "Crispy calamari with lemon aioli."},
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20},
    }


OVERLOADED = {"error": {"message": "The server is overloaded", "type": "server_error", "code": None}}
# A 1×1 PNG, base64: enough for the adapter and the cascade's image check.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
KIE_TASK = {"code": 200, "msg": "success", "data": {"taskId": "task_bench-stuck_1"}}
KIE_GENERATING = {
    "code": 200,
    "msg": "success",
    "data": {"taskId": "task_bench-stuck_1", "state": "generating"},
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers do
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle plus the client's delayed
    # ACK add ~40 ms to every answer, which would swamp what the benchmark measures.
    disable_nagle_algorithm = True
    server: FakeProviderServer

    def do_GET(self) -> None:
        self.server.requests += 1
        if self.server.behaviour == "kie-stuck" and self.path.startswith("/api/v1/jobs/recordInfo"):
            return self._send(200, KIE_GENERATING)
        return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.requests += 1
        if self.server.behaviour == "kie-stuck" and self.path == "/api/v1/jobs/createTask":
            return self._send(200, KIE_TASK)
        if self.path.endswith("/images/generations") and self.server.behaviour == "healthy":
            time.sleep(self.server.latency)
            return self._send(200, {"created": int(time.time()), "data": [{"b64_json": PNG_B64}]})
        if not self.path.endswith("/chat/completions"):
            return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        if self.server.behaviour == "dribble":
            return self._dribble(json.dumps(chat_completion(str(body.get("model", "")))).encode())
        if self.server.behaviour == "hang":
            # Hold the connection open without a byte of answer until the server stops.
            self.server.stopping.wait(timeout=120)
            self.close_connection = True
            return None
        if self.server.behaviour == "overloaded":
            return self._send(503, OVERLOADED)
        if self.server.latency > 0:
            time.sleep(self.server.latency)
        return self._send(200, chat_completion(str(body.get("model", ""))))

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dribble(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        ends = time.monotonic() + DRIBBLE_FOR
        try:
            for byte in data:
                if time.monotonic() > ends or self.server.stopping.wait(DRIBBLE_EVERY):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:
            pass  # the client gave up: exactly what a wall-clock budget should do
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return None  # quiet: the benchmark prints its own table


class FakeProviderServer(ThreadingHTTPServer):
    """A threaded server on 127.0.0.1:<free port>; `base_url` is what a ChainCandidate stores."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, behaviour: Behaviour, *, latency: float = 0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour
        self.latency = latency
        self.requests = 0
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> FakeProviderServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


def _serve(behaviour: Behaviour, latency: float, ports: multiprocessing.Queue) -> None:
    server = FakeProviderServer(behaviour, latency=latency)
    ports.put(server.server_address[1])
    server.serve_forever(poll_interval=0.05)


class ServerProcess:
    """A FakeProviderServer in its own process, so its threads never compete with the code under
    measurement for the GIL (a provider is another machine, after all)."""

    def __init__(self, behaviour: Behaviour, *, latency: float = 0.0):
        context = multiprocessing.get_context("spawn")  # no fork of a process that has threads
        self._ports: multiprocessing.Queue = context.Queue()
        self._process = context.Process(target=_serve, args=(behaviour, latency, self._ports), daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ServerProcess:
        self._process.start()
        self.port = int(self._ports.get(timeout=30))
        return self

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released): connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
