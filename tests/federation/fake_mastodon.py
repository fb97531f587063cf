"""A small stand-in for a Mastodon server (which we cannot run here): a real HTTP server on 127.0.0.1 that
publishes an actor with an RSA key, as Mastodon does, signs what it sends as Mastodon signs (draft-cavage,
RSA-SHA256, over `(request-target) host date digest content-type`), and keeps what reaches its inboxes,
with whether its signature verified against the key the sender publishes."""
from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from federation import cavage

ACTIVITY_JSON = "application/activity+json"
#: What Mastodon's signatures cover.
MASTODON_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")


@dataclass(frozen=True)
class Arrival:
    """An activity that reached an inbox: where, what, and whether its signature verified (and if not, why)."""

    path: str
    activity: dict
    verified: bool
    reason: str = ""
    key_id: str = ""


class FakeMastodon:
    """with FakeMastodon() as server: server.follow(node_url) …; server.arrivals lists what it received."""

    def __init__(self, username: str = "eleni") -> None:
        self.username = username
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        #: The paths other servers fetched from it.
        self.fetched: list[str] = []
        self.arrivals: list[Arrival] = []
        #: Changes to the actor document it publishes (to play a server that publishes something odd).
        self.actor_changes: dict = {}
        #: Keys it knows without fetching them, by key id (a node in the test's own process has no address).
        self.known_keys: dict = {}
        #: Statuses to answer the next deliveries with, instead of taking them (503: down for a while…).
        self.refuse_next: list[int] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> FakeMastodon:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def actor(self) -> str:
        return f"{self.url}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.actor}#main-key"

    def actor_document(self) -> dict:
        pem = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor, "type": "Person", "preferredUsername": self.username, "name": "Ελένη",
            "inbox": f"{self.actor}/inbox", "outbox": f"{self.actor}/outbox",
            "followers": f"{self.actor}/followers", "endpoints": {"sharedInbox": f"{self.url}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.actor, "publicKeyPem": pem},
        }
        return {**document, **self.actor_changes}

    # --- sending, as Mastodon does -------------------------------------------------------------------

    def signed_headers(self, url: str, body: bytes, key_id: str | None = None) -> dict[str, str]:
        parts = urlsplit(url)
        headers = {"Host": parts.netloc, "Date": cavage.http_date(datetime.now(UTC)), "Digest": cavage.digest(body),
                   "Content-Type": ACTIVITY_JSON}
        headers["Signature"] = cavage.sign("POST", parts.path, headers, key_id or self.key_id, self.key,
                                           MASTODON_HEADERS)
        return headers

    def post(self, inbox: str, document: dict) -> requests.Response:
        """POST a document to an inbox over HTTP, signed."""
        body = json.dumps(document).encode()
        return requests.post(inbox, data=body, headers=self.signed_headers(inbox, body), timeout=10)

    def follow_activity(self, node_url: str) -> dict:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{self.url}/{uuid.uuid4()}",
                "type": "Follow", "actor": self.actor, "object": f"{node_url}/federation/actor"}

    def undo_activity(self, follow: dict) -> dict:
        return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{self.actor}#follows/1/undo",
                "type": "Undo", "actor": self.actor, "object": follow}

    # --- what arrived --------------------------------------------------------------------------------

    def received(self, kind: str) -> list[Arrival]:
        with self._lock:
            return [arrival for arrival in self.arrivals if arrival.activity.get("type") == kind]

    def wait_for(self, kind: str, count: int = 1, seconds: float = 30.0) -> list[Arrival]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.received(kind)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"Within {seconds:.0f} s the fake Mastodon received {len(self.received(kind))} "
                             f"{kind}, not {count}: {self.arrivals}")

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> tuple[bool, str, str]:
        """Verify as Mastodon does: fetch the signer's actor, take its publicKey, check the signature."""
        def key_of(key_id: str):
            if key_id in self.known_keys:
                return self.known_keys[key_id]
            actor = requests.get(key_id.split("#")[0], headers={"Accept": ACTIVITY_JSON}, timeout=5).json()
            key = actor.get("publicKey") or {}
            if key.get("id") != key_id:
                return None
            return serialization.load_pem_public_key(key["publicKeyPem"].encode())

        try:
            verified = cavage.verify_request("POST", path, headers, body, key_of)
        except cavage.SignatureRefused as exc:
            return False, exc.reason, ""
        return True, "", verified.key_id

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, document: dict | None = None) -> None:
                body = json.dumps(document or {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", ACTIVITY_JSON)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                server.fetched.append(self.path)
                if self.path == f"/users/{server.username}":
                    self._answer(200, server.actor_document())
                else:
                    self._answer(404, {"error": "Record not found"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path not in ("/inbox", f"/users/{server.username}/inbox"):
                    self._answer(404, {"error": "Record not found"})
                    return
                if server.refuse_next:
                    self._answer(server.refuse_next.pop(0), {"error": "Not now"})
                    return
                verified, reason, key_id = server._verify(self.path, dict(self.headers.items()), body)
                with server._lock:
                    server.arrivals.append(Arrival(self.path, json.loads(body), verified, reason, key_id))
                self._answer(202 if verified else 401)

        return Handler
