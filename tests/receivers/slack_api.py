"""A local Slack: incoming webhooks and the Web API's ``chat.postMessage``.

Answers as Slack does: a webhook POST gets 200 with the body ``ok`` (404 ``no_service`` for an
unknown hook, 400 ``invalid_payload`` without text); ``chat.postMessage`` gets 200 with JSON
``{"ok": true, "channel": ..., "ts": ..., "message": ...}`` or ``{"ok": false, "error":
"invalid_auth"}`` for a wrong token. ``Receiver.script`` injects 429 + Retry-After and 500s.
"""

from __future__ import annotations

import itertools
import json
from urllib.parse import parse_qs

from tests.receivers.base import Answer, Received, Receiver, json_answer

WEBHOOK_PATH = "/services/T0000TEST/B0000TEST/hooksecretXXXXXXXXXXXXXXXX"
BOT_TOKEN = "xoxb-test-bot-token-secret-000000"


class SlackReceiver(Receiver):
    def __init__(self, webhook_path: str = WEBHOOK_PATH, token: str = BOT_TOKEN) -> None:
        super().__init__()
        self.webhook_path = webhook_path
        self.token = token
        self._ts = itertools.count(1)

    @property
    def webhook_url(self) -> str:
        return self.base + self.webhook_path

    @property
    def api_base(self) -> str:
        return self.base + "/api/"

    def texts(self) -> list[str]:
        """Texts of the messages Slack accepted."""
        out = []
        for r in self.requests:
            if r.answered != 200:
                continue
            if r.path == self.webhook_path:
                out.append(r.json()["text"])
            elif r.path == "/api/chat.postMessage":
                out.append(self._params(r)["text"])
        return out

    @staticmethod
    def _params(r: Received) -> dict[str, str]:
        if r.headers.get("Content-Type", "").startswith("application/json"):
            return {k: str(v) for k, v in json.loads(r.body).items()}
        return {k: v[0] for k, v in parse_qs(r.body.decode()).items()}

    def answer(self, request: Received) -> Answer:
        if request.path.startswith("/services/"):
            if request.path != self.webhook_path:
                return Answer(404, b"no_service")
            try:
                text = json.loads(request.body).get("text")
            except ValueError:
                text = None
            if not text:
                return Answer(400, b"invalid_payload")
            return Answer(200, b"ok", {"Content-Type": "text/html"})
        if request.path == "/api/chat.postMessage":
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                return json_answer(200, {"ok": False, "error": "invalid_auth"})
            params = self._params(request)
            if not params.get("channel"):
                return json_answer(200, {"ok": False, "error": "channel_not_found"})
            ts = f"1700000000.{next(self._ts):06d}"
            return json_answer(
                200,
                {
                    "ok": True,
                    "channel": params["channel"],
                    "ts": ts,
                    "message": {"type": "message", "text": params.get("text", ""), "ts": ts},
                },
            )
        return Answer(404, b"not found")


def rate_limited(seconds: int = 1) -> Answer:
    return Answer(429, b"rate_limited", {"Retry-After": str(seconds)})


def server_error() -> Answer:
    return Answer(500, b"rollup_error")
