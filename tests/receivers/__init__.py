"""Local HTTP receivers that answer like the real APIs, with scripted faults.

Each receiver is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread. Tests
script faults with :meth:`Receiver.fail`: the next requests that match a predicate get a 429
with ``Retry-After``, a 5xx, a response slower than the client's timeout, or a body cut short
(``short``: a ``Content-Length`` the body never reaches; ``cut``: no length, connection
closed halfway). Every request is recorded (path, query, whether its credentials were right),
never its credentials.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from tests.receivers.server import serving


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    authorised: bool


@dataclass
class Fault:
    kind: Literal["status", "slow", "short", "cut"]
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    when: Callable[[Seen], bool] = lambda seen: True
    times: int = 1


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Base class: subclasses implement :meth:`answer` and set the expected Basic credentials."""

    def __init__(self, username: str, password: str) -> None:
        self._expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.seen: list[Seen] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- what tests call ----------------------------------------------------------------

    def fail(
        self,
        kind: Literal["status", "slow", "short", "cut"],
        *,
        status: int = 500,
        retry_after: str | None = None,
        seconds: float = 0.0,
        when: Callable[[Seen], bool] | None = None,
        times: int = 1,
    ) -> None:
        self.faults.append(
            Fault(kind, status, retry_after, seconds, when or (lambda seen: True), times)
        )

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, seen: Seen) -> Reply:  # pragma: no cover - abstract
        raise NotImplementedError

    def unauthorised(self) -> Reply:
        return Reply(401, b'{"error": "Unauthorized"}')

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean; nothing here may print credentials anyway

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                seen = Seen(
                    parts.path, query, self.headers.get("Authorization") == receiver._expected
                )
                with receiver._lock:
                    receiver.seen.append(seen)
                    fault = receiver._take_fault(seen)
                if not seen.authorised:
                    self._send(receiver.unauthorised())
                    return
                if fault is not None and fault.kind == "status":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    self._send(Reply(fault.status, b'{"error": "scripted"}', headers=headers))
                    return
                if fault is not None and fault.kind == "slow":
                    time.sleep(fault.seconds)
                reply = receiver.answer(seen)
                if fault is not None and fault.kind in ("short", "cut"):
                    self._send_truncated(reply, declare_length=fault.kind == "short")
                    return
                # A client that timed out has gone: nothing to do.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply)

            def _send(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def _send_truncated(self, reply: Reply, declare_length: bool) -> None:
                half = reply.body[: max(1, len(reply.body) // 2)]
                if half.endswith(b"\n"):
                    half = half[:-1]
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if declare_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(half)
                self.wfile.flush()
                self.close_connection = True

        with serving(Handler) as server:
            self._server = server
            yield self

    def _take_fault(self, seen: Seen) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.when(seen):
                fault.times -= 1
                return fault
        return None
