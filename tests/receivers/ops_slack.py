"""A local stand-in for a Slack incoming webhook (``https://hooks.slack.com/services/…``).

Answers like Slack does: ``200 ok`` for a JSON body with ``text``; ``400 invalid_payload``
for anything else; ``403 invalid_token`` or ``404 no_service`` for a revoked webhook; ``429``
with ``Retry-After`` when rate limited. Tests queue the statuses to answer with and read
back what was posted. Listens on 127.0.0.1, port chosen by the OS.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.receivers.server import serving

SECRET_PATH = "/services/T0000TEST/B0000TEST/s3cretWebhookToken"
REASONS = {400: "invalid_payload", 403: "invalid_token", 404: "no_service", 429: "rate_limited"}


@dataclass
class SlackWebhook:
    url: str = ""
    posts: list[dict[str, Any]] = field(default_factory=list)
    answers: deque[int] = field(default_factory=deque)
    requests: int = 0


@contextmanager
def slack_webhook() -> Iterator[SlackWebhook]:
    hook = SlackWebhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            hook.requests += 1
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = hook.answers.popleft() if hook.answers else 200
            if self.path != SECRET_PATH:
                status = 404
            if status == 200:
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                if not isinstance(payload, dict) or not payload.get("text"):
                    status = 400
                else:
                    hook.posts.append(payload)
            text = "ok" if status == 200 else REASONS.get(status, "server_error")
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, format: str, *args: Any) -> None:
            return

    with serving(Handler) as server:
        hook.url = f"http://127.0.0.1:{server.server_address[1]}{SECRET_PATH}"
        yield hook
