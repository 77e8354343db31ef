"""A threaded local HTTP receiver: records every request, answers like the API it stands for,
and can be scripted to fail first (429 with Retry-After, 500s)."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.receivers.server import serving


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Subclasses implement :meth:`answer` for one request."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def script(self, *answers: Answer) -> None:
        """Answer the next requests with these, in order, before answering normally."""
        with self._lock:
            self._script.extend(answers)

    def answer(self, request: Received) -> Answer:
        raise NotImplementedError

    @property
    def base(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handle(self, request: Received) -> Answer:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        answer = scripted or self.answer(request)
        request.answered = answer.status
        with self._lock:
            self.requests.append(request)
        return answer

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = Received(self.path, dict(self.headers.items()), self.rfile.read(length))
                ans = receiver._handle(req)
                self.send_response(ans.status)
                for name, value in ans.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(ans.body)))
                self.end_headers()
                self.wfile.write(ans.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        with serving(Handler) as server:
            self.server = server
            yield self


def json_answer(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(
        status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})}
    )
