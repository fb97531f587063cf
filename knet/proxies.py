"""Believing a reverse proxy's X-Forwarded-For and X-Forwarded-Proto, but only from the proxies the node trusts.

Behind nginx every request reaches gunicorn from nginx's address over plain HTTP. The node needs the
person's own address (sign-in throttling per address, the audit log) and whether they came over HTTPS
(a secure request's form must come from a page of this host: Flask-WTF checks its Referer). nginx tells
both in X-Forwarded-For and X-Forwarded-Proto; anybody else could send the same headers, so they are
believed only when the connection itself comes from an address in ``trusted_proxies``.

What peers sign (RFC 9421 ``@target-uri``) and what OpenID Connect names (issuer, endpoints, redirect
addresses) are built from the configured ``url``, never from the request, so they need none of this.
"""
from __future__ import annotations

import ipaddress

from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware: one hop of X-Forwarded-For / X-Forwarded-Proto, applied only for trusted peers."""

    def __init__(self, wsgi_app, trusted: list[str]) -> None:
        self.networks = [ipaddress.ip_network(item) for item in trusted]
        self.direct = wsgi_app
        # One hop: the last address in X-Forwarded-For is the one nginx appended (the client it saw);
        # anything before it is what the client claimed. The Host header is nginx's own (proxy_set_header).
        self.forwarded = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def __call__(self, environ, start_response):
        if self.trusts(environ.get("REMOTE_ADDR", "")):
            return self.forwarded(environ, start_response)
        return self.direct(environ, start_response)

    def trusts(self, address: str) -> bool:
        try:
            peer = ipaddress.ip_address(address)
        except ValueError:  # no address (a Unix socket): gunicorn listens on 127.0.0.1 in docs/deploy.md
            return False
        return any(peer in network for network in self.networks)
