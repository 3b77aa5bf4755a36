"""A JSON feed server on 127.0.0.1:<free port> for external tag source tests."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FeedServer:
    """Serves ``routes[path] = (status, body, delay, drip)``; ``delay`` seconds pass before
    the answer, and with ``drip`` the body goes out one byte per ``drip`` seconds."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes, float, float]] = {}
        routes = self.routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body, delay, drip = routes.get(self.path, (404, b"{}", 0.0, 0.0))
                time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if drip:
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(drip)
                    else:
                        self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    def serve(self, path: str, body: Any, *, status: int = 200, delay: float = 0.0,
              drip: float = 0.0) -> str:
        """Answer ``body`` (JSON-encoded unless bytes) at ``path``; returns its URL."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = (status, raw, delay, drip)
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"


@contextlib.contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A FeedServer answering from a thread until the block ends."""
    feeds = FeedServer()
    thread = threading.Thread(target=feeds.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        feeds.server.shutdown()
        feeds.server.server_close()
        thread.join(timeout=5)
