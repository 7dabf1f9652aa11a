"""A tiny scripted HTTP server on 127.0.0.1 (random port, its own thread): the shared base of
the fake model APIs in this package.

A subclass implements `route(request) -> Response`; the server records every request, so a
test can assert on exactly what the real SDK sent. Use it as a context manager:

    with FakeAnthropic() as fake:       # see anthropic_server.py
        client = Anthropic(api_key=fake.api_key, base_url=fake.url)
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG_LIMIT = 5.0  # a hanging reply never outlives this, even if a test forgets to close


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it is not JSON


@dataclass
class Response:
    """What to send back: a body, a list of chunks flushed one by one (SSE), or a hang."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: list[bytes] | None = None
    hang: bool = False


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status,
        {"content-type": "application/json", **(headers or {})},
        json.dumps(payload).encode(),
    )


class FakeServer:
    """Base class: threading, recording and the queue of scripted replies."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.queue: deque[Any] = deque()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeServer:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        serve = partial(self._server.serve_forever, poll_interval=0.01)  # fast shutdown
        threading.Thread(target=serve, daemon=True).start()
        return self

    def close(self) -> None:
        self._released.set()  # frees any handler that is hanging on purpose
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- scripting -------------------------------------------------------------------------

    def next_item(self) -> Any:
        with self._lock:
            return self.queue.popleft() if self.queue else None

    def route(self, request: Recorded) -> Response:  # pragma: no cover - subclasses
        raise NotImplementedError

    def _handle(self, request: Recorded) -> Response:
        with self._lock:
            self.requests.append(request)
        return self.route(request)

    def wait_released(self) -> None:
        self._released.wait(HANG_LIMIT)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # tests stay quiet

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        try:
            body: Any = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.fake._handle(Recorded(self.command, self.path, headers, body))
        if response.hang:
            self.fake.wait_released()
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("connection", "close")
        if response.chunks is None:
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        else:
            self.end_headers()  # no length: the stream ends when the connection closes
            for chunk in response.chunks:
                self.wfile.write(chunk)
                self.wfile.flush()
        self.close_connection = True
