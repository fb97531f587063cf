"""A peer that misbehaves on purpose: a small HTTP server on 127.0.0.1 that publishes a real node document
(so a node can add it and the handshake succeeds) and then answers deliveries to its inbox as told:
429 with Retry-After, 503, 410, 401, an HTML error page, or never."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from federation import keys
from federation.actor import node_document

#: What the inbox answers to deliveries, by name.
BEHAVIOURS = {
    "accept": (202, "application/json", b'{"accepted": true}', {}),
    "busy": (429, "application/problem+json", b'{"detail": "Slow down"}', {"Retry-After": "30"}),
    "unavailable": (503, "application/problem+json", b'{"detail": "Down for maintenance"}', {}),
    "gone": (410, "application/problem+json", b'{"detail": "This node is closed"}', {}),
    "refused": (401, "application/problem+json", b'{"detail": "Who are you?", "reason": "unknown-key"}', {}),
    "html": (502, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>", {}),
}


class FakePeer:
    def __init__(self, directory: Path, name: str = "Δήμος Δοκιμαστικός"):
        self.name, self.behaviour, self.deliveries = name, "accept", 0
        self.ring = keys.ensure_key(directory)
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakePeer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, content_type: str, body: bytes, headers: dict) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path == "/federation/actor":
                    document = node_document(peer.name, peer.url, peer.ring)
                    self._answer(200, "application/activity+json", json.dumps(document).encode(), {})
                else:
                    self._answer(404, "text/plain", b"not here", {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if body.get("type") == "Follow":  # the handshake: we have added the node too
                    self._answer(202, "application/json", b"{}", {})
                    return
                peer.deliveries += 1
                if peer.behaviour == "silent":  # takes the connection, never answers
                    peer.release.wait(60)
                    return
                self._answer(*BEHAVIOURS[peer.behaviour])

        return Handler
