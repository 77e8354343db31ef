"""The local receivers' server scaffold: no handler thread outlives its block."""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler

from tests.receivers.server import serving


class KeepAlive(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_open_keep_alive_connections_are_ended_with_the_block() -> None:
    """A client that keeps its HTTP/1.1 connection open (as a connection pool does) is
    disconnected when the receiver stops, so the handler thread waiting for its next request
    ends instead of lingering until interpreter exit."""
    before = set(threading.enumerate())
    with serving(KeepAlive) as server:
        host, port = server.server_address[:2]
        client = http.client.HTTPConnection(str(host), port, timeout=5)
        client.request("GET", "/")
        assert client.getresponse().read() == b"ok"
    assert client.sock is not None
    client.sock.settimeout(3)
    try:
        assert client.sock.recv(1) == b""  # the server closed its side
    except TimeoutError as exc:
        raise AssertionError("the keep-alive connection was left open") from exc
    finally:
        client.close()
    lingering = [t for t in threading.enumerate() if t not in before]
    for thread in lingering:
        thread.join(timeout=3)
    assert not [t for t in lingering if t.is_alive()]


def test_a_client_hanging_up_is_not_reported_as_an_error(capsys) -> None:  # type: ignore[no-untyped-def]
    """A client resetting its connection mid-request is the client's doing: nothing is
    printed (socketserver prints a traceback for a handler's exception by default)."""

    class Resetting(KeepAlive):
        def do_GET(self) -> None:
            raise ConnectionResetError("the client went away")

    with serving(Resetting) as server:
        host, port = server.server_address[:2]
        with socket.create_connection((str(host), port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1) == b""
    assert "Exception occurred" not in capsys.readouterr().err
