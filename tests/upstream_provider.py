"""A small national public-sector OAuth2 provider for the tests, served over real HTTP on 127.0.0.1: plain
OAuth2 (authorization code, a client id and secret) with a userinfo endpoint, as the Greek public
administration's single sign-on offers. Its userinfo carries a tax number, which knet must never keep or
pass on. It knows a few people by user name and password, and records the requests it got."""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from markupsafe import escape
from werkzeug.serving import make_server

CLIENT_ID = "knet-dimos"
CLIENT_SECRET = "an upstream client secret"
#: user name → (password, userinfo). `uid` is the claim a node maps to its own staff's user names.
PEOPLE = {
    "citizen-maria": ("taxis password", {"sub": "GR-7781", "uid": "maria", "name": "Μαρία Παπαδοπούλου",
                                         "taxid": "123456789", "amka": "01017012345"}),
    "citizen-stranger": ("taxis password", {"sub": "GR-9999", "uid": "nobody-here", "name": "Άγνωστος",
                                            "taxid": "987654321"}),
}


@dataclass
class Provider:
    """The running provider: its URL, the redirect URI it accepts, and what happened."""

    redirect_uri: str
    port: int = 0
    codes: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self) -> dict:
        """The [upstream] table of a node's knet.toml that uses this provider."""
        return {"name": "Δημόσια Διοίκηση (δοκιμαστικό)", "authorize_url": f"{self.url}/authorize",
                "token_url": f"{self.url}/token", "userinfo_url": f"{self.url}/userinfo", "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET, "username_claim": "uid"}


def make_app(provider: Provider) -> Flask:
    app = Flask("upstream")

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        args = request.values
        if args.get("client_id") != CLIENT_ID or args.get("redirect_uri") != provider.redirect_uri:
            abort(400, "unknown client or redirect URI")
        if request.method == "GET":
            hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in args.items())
            return (f'<!doctype html><html lang="el"><title>Είσοδος</title><form method="post">{hidden}'
                    '<label>Όνομα χρήστη <input name="username"></label>'
                    '<label>Κωδικός <input name="password" type="password"></label>'
                    '<button>Είσοδος</button></form></html>')
        person = PEOPLE.get(args.get("username", ""))
        if person is None or person[0] != args.get("password"):
            return redirect(f"{provider.redirect_uri}?" + urlencode({"error": "access_denied",
                                                                      "state": args.get("state", "")}))
        code = secrets.token_urlsafe(16)
        provider.codes[code] = (args.get("username"), args.get("code_challenge"))
        return redirect(f"{provider.redirect_uri}?" + urlencode({"code": code, "state": args.get("state", "")}))

    @app.post("/token")
    def token():
        provider.token_requests.append(dict(request.form))
        client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        if request.authorization:
            client_id, secret = request.authorization.username, request.authorization.password
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return jsonify(error="invalid_client"), 401
        found = provider.codes.pop(request.form.get("code", ""), None)
        if found is None or request.form.get("redirect_uri") != provider.redirect_uri:
            return jsonify(error="invalid_grant"), 400
        username, challenge = found
        if challenge:
            verifier = request.form.get("code_verifier", "").encode()
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
            if expected != challenge:
                return jsonify(error="invalid_grant"), 400
        access = secrets.token_urlsafe(16)
        provider.tokens[access] = username
        return jsonify(access_token=access, token_type="Bearer", expires_in=300)

    @app.get("/userinfo")
    def userinfo():
        header = request.headers.get("Authorization", "")
        username = provider.tokens.get(header.removeprefix("Bearer ").strip())
        if username is None:
            return jsonify(error="invalid_token"), 401
        return jsonify(PEOPLE[username][1])

    return app


class Running:
    """Serve a provider in a thread; stop() ends it."""

    def __init__(self, provider: Provider):
        self.server = make_server("127.0.0.1", 0, make_app(provider), threaded=True)
        provider.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
