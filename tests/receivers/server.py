"""The one HTTP server scaffold every local receiver runs on: 127.0.0.1, port 0, a thread."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ReceiverServer(ThreadingHTTPServer):
    """A threaded server that ends its open connections when it is closed.

    Receivers answering HTTP/1.1 keep connections alive, and a handler thread waits on each
    for the client's next request. Left alone, such a thread outlived the test, and when the
    client's connection pool was torn down at interpreter exit the read failed and the server
    printed "Exception occurred during processing of request" after pytest's summary. Here the
    server tracks the connections it accepted and shuts them down on :meth:`close_connections`,
    and a client that hangs up mid-request (a test timing out on purpose) is not reported as
    the receiver's error."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every connection still open: their handler threads read end-of-file
        and finish."""
        with self._open_lock:
            still_open = list(self._open)
        for conn in still_open:
            with contextlib.suppress(OSError):  # already closed by the other side
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client went away; nothing the receiver did wrong
        super().handle_error(request, client_address)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[ReceiverServer]:
    """Serve ``handler`` on a free loopback port until the block ends; then stop accepting,
    end the connections still open and close the socket."""
    server = ReceiverServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
