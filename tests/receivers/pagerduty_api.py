"""A local PagerDuty Events API v2 (``POST /v2/enqueue``).

Answers as PagerDuty does: 202 ``{"status": "success", "message": "Event processed",
"dedup_key": ...}`` for a valid event (a trigger without ``dedup_key`` gets a generated one);
400 ``{"status": "invalid event", "message": "Event object is invalid", "errors": [...]}`` for
a wrong routing key or a malformed event. ``Receiver.script`` injects 429 and 500s.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.receivers.base import Answer, Received, Receiver, json_answer

ROUTING_KEY = "R0UT1NGKEYSECRET0123456789abcdef"
_SEVERITIES = {"critical", "error", "warning", "info"}


class PagerDutyReceiver(Receiver):
    def __init__(self, routing_key: str = ROUTING_KEY) -> None:
        super().__init__()
        self.routing_key = routing_key

    @property
    def events_url(self) -> str:
        return self.base + "/v2/enqueue"

    def events(self) -> list[dict[str, Any]]:
        """Events PagerDuty accepted."""
        return [r.json() for r in self.requests if r.answered == 202]

    def answer(self, request: Received) -> Answer:
        if request.path != "/v2/enqueue":
            return Answer(404, b"not found")
        try:
            event = json.loads(request.body)
        except ValueError:
            return _invalid("Malformed JSON")
        if event.get("routing_key") != self.routing_key:
            return _invalid("Invalid routing key")
        action = event.get("event_action")
        if action not in {"trigger", "acknowledge", "resolve"}:
            return _invalid("'event_action' is invalid")
        if action == "trigger":
            payload = event.get("payload") or {}
            if not payload.get("summary") or not payload.get("source"):
                return _invalid("'payload' is missing summary or source")
            if payload.get("severity") not in _SEVERITIES:
                return _invalid("'payload.severity' is invalid")
        elif not event.get("dedup_key"):
            return _invalid("'dedup_key' is required for acknowledge and resolve")
        key = event.get("dedup_key") or uuid.uuid4().hex
        return json_answer(
            202, {"status": "success", "message": "Event processed", "dedup_key": key}
        )


def _invalid(error: str) -> Answer:
    return json_answer(
        400, {"status": "invalid event", "message": "Event object is invalid", "errors": [error]}
    )


def rate_limited(seconds: int = 1) -> Answer:
    return json_answer(429, {"status": "throttled"}, {"Retry-After": str(seconds)})


def server_error() -> Answer:
    return json_answer(500, {"status": "error"})
