"""A local Stripe API for tests: list endpoints, Bearer auth and scripted faults.

It answers the way api.stripe.com does for what the pipeline uses:

* ``GET /v1/{customers,subscriptions,invoices,charges,refunds,events}`` return list objects
  (``{"object": "list", "data": [...], "has_more": ..., "url": ...}``), newest first (by
  ``created`` then id), filtered by ``created[gte|gt|lt|lte]``, ``limit`` (default 10, at most
  100) and ``starting_after``; subscriptions leave out canceled ones unless ``status=all``
  (or that status); events filter on ``type`` or ``types[]`` / ``types[N]``.
* ``Authorization: Bearer <key>``: another key gets 401 with Stripe's error JSON (whose message
  repeats a redacted key, as Stripe's does); a key listed as restricted gets 403.
* Faults are scripted per path: :meth:`StripeReceiver.script` queues, for the next requests to
  that path, ``None`` (answer normally) or a :class:`Fault`: an HTTP status (429 with
  ``Retry-After``, 500), a delay beyond the client's timeout, a truncated body or a body that
  is not JSON.
* Malformed records (a charge without ``created``, an unknown currency) are served with
  :meth:`StripeReceiver.add_raw` inside the windows that contain a given moment.

Every request is logged (path, query, headers) so tests can assert how the client paged.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.receivers.server import serving

LISTS = ("customers", "subscriptions", "invoices", "charges", "refunds", "events")


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "delay", "truncated", "not_json"
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0

    @classmethod
    def http(cls, status: int, retry_after: str | None = None) -> Fault:
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        return cls("delay", seconds=seconds)

    @classmethod
    def truncated(cls) -> Fault:
        return cls("truncated")

    @classmethod
    def not_json(cls) -> Fault:
        return cls("not_json")


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, list[str]]
    stripe_version: str | None
    authorized: bool


@dataclass
class StripeReceiver:
    api_key: str
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    restricted_keys: set[str] = field(default_factory=set)
    requests: list[Request] = field(default_factory=list)
    _scripts: dict[str, deque[Fault | None]] = field(default_factory=dict)
    _raw: list[tuple[str, int, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _serving: AbstractContextManager[ThreadingHTTPServer] | None = None

    # ------------------------------------------------------------------ set-up

    def add(self, stream: str, *records: dict[str, Any]) -> None:
        self.objects.setdefault(stream, []).extend(records)

    def add_raw(self, stream: str, moment: int, record: Any) -> None:
        """Serve ``record`` as is in every ``stream`` window that contains ``moment``."""
        self._raw.append((stream, moment, record))

    def script(self, path: str, *steps: Fault | None) -> None:
        """What the next requests to ``path`` get: None answers normally, a Fault fails."""
        with self._lock:
            self._scripts.setdefault(path, deque()).extend(steps)

    def pages(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StripeReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                # BrokenPipe/reset: the client gave up (timeout), nothing left to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    receiver._handle(self)

        self._serving = serving(Handler)
        self._server = self._serving.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._serving is not None
        self._serving.__exit__(None, None, None)

    # ---------------------------------------------------------------- answering

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        auth = h.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        authorized = key in (self.api_key, *self.restricted_keys) and bool(key)
        with self._lock:
            self.requests.append(
                Request(parts.path, query, h.headers.get("Stripe-Version"), authorized)
            )
            script = self._scripts.get(parts.path)
            step = script.popleft() if script else None
        if not authorized:
            redacted = f"{key[:8]}{'*' * 8}{key[-4:]}" if len(key) > 12 else "(none)"
            message = f"Invalid API Key provided: {redacted}"
            return self._error(h, 401, "invalid_request_error", message)
        if key in self.restricted_keys:
            message = f"The provided key '{key[:8]}***' does not have the required permissions"
            return self._error(h, 403, "invalid_request_error", message)
        if step is not None:
            if step.kind == "status":
                headers = {"Retry-After": step.retry_after} if step.retry_after else {}
                kind = "invalid_request_error" if step.status == 429 else "api_error"
                code = "rate_limit" if step.status == 429 else None
                return self._error(h, step.status, kind, "scripted fault", headers, code)
            if step.kind == "delay":
                time.sleep(step.seconds)
        stream = parts.path.removeprefix("/v1/")
        if stream not in LISTS:
            return self._error(
                h, 404, "invalid_request_error", f"Unrecognized request URL ({parts.path})"
            )
        try:
            body = self._list(stream, parts.path, query)
        except ValueError as exc:
            return self._error(h, 400, "invalid_request_error", str(exc))
        data = json.dumps(body).encode()
        if step is not None and step.kind == "not_json":
            return self._send(h, 200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        if step is not None and step.kind == "truncated":
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(data)))
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(data[: len(data) // 2])
            h.wfile.flush()
            h.close_connection = True
            return None
        return self._send(h, 200, data)

    def _list(self, stream: str, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        limit = int(one("limit") or 10)
        if not 1 <= limit <= 100:
            raise ValueError("Invalid integer: limit must be between 1 and 100")
        bounds = {op: one(f"created[{op}]") for op in ("gte", "gt", "lt", "lte")}

        def in_window(ts: int) -> bool:
            checks = {
                "gte": lambda b: ts >= b,
                "gt": lambda b: ts > b,
                "lt": lambda b: ts < b,
                "lte": lambda b: ts <= b,
            }
            return all(checks[op](int(v)) for op, v in bounds.items() if v is not None)

        records = [r for r in self.objects.get(stream, []) if in_window(int(r["created"]))]
        if stream == "subscriptions":
            status = one("status")
            if status is None:
                records = [r for r in records if r.get("status") != "canceled"]
            elif status != "all":
                records = [r for r in records if r.get("status") == status]
        if stream == "events":
            types = {v for k, vs in query.items() if k.startswith("types[") for v in vs}
            if one("type"):
                types.add(str(one("type")))
            if types:
                records = [r for r in records if r.get("type") in types]
        records.sort(key=lambda r: (int(r["created"]), str(r["id"])), reverse=True)
        after = one("starting_after")
        if after is not None:
            ids = [str(r["id"]) for r in records]
            if after not in ids:
                raise ValueError(f"No such object: '{after}'")
            records = records[ids.index(after) + 1 :]
        served: list[Any] = records[:limit]
        if after is None:  # malformed extras lead the first page of their window
            extras = [rec for s, moment, rec in self._raw if s == stream and in_window(moment)]
            served = [*extras, *served]
        return {"object": "list", "data": served, "has_more": len(records) > limit, "url": path}

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Request-Id", f"req_{len(self.requests):06d}")
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)

    def _error(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        kind: str,
        message: str,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        error: dict[str, Any] = {"type": kind, "message": message}
        if code:
            error["code"] = code
        self._send(h, status, json.dumps({"error": error}).encode(), headers=headers)


def stripe_receiver(api_key: str) -> Iterator[StripeReceiver]:
    with StripeReceiver(api_key) as receiver:
        yield receiver
