"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 and a free port, keeping what it receives.

It speaks plain SMTP, STARTTLS or TLS from the start, with a certificate for 127.0.0.1 from a
throwaway authority (`Authority`, made with the openssl tool), and may ask for a login or refuse
some recipients, like the municipality's relay would.
"""
from __future__ import annotations

import email
import shutil
import ssl
import subprocess
import tempfile
import threading
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.services import free_port

HOST = "127.0.0.1"
SENDER = "Δήμος Δοκιμών <knet@dimos.example.gr>"


class Authority:
    """A certificate authority made for the test session, and a server certificate it issued for 127.0.0.1.

    A client trusts it when SSL_CERT_FILE names `ca_file`, as a node trusts a municipality's own
    authority once it is installed."""

    def __init__(self) -> None:
        if shutil.which("openssl") is None:
            raise RuntimeError("The mail tests need the openssl tool: apt-get install openssl.")
        self.dir = Path(tempfile.mkdtemp(prefix="knet-mail-ca-"))
        self.ca_file, self.cert_file, self.key_file = (self.dir / name for name in ("ca.pem", "server.pem",
                                                                                    "server.key"))
        ca_key, request = self.dir / "ca.key", self.dir / "server.csr"
        extensions = self.dir / "server.ext"
        extensions.write_text("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                              "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n", encoding="ascii")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", ca_key, "-out", self.ca_file, "-days", "2", "-subj", "/CN=Knet Test Authority",
                      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", self.key_file, "-out", request, "-subj", "/CN=127.0.0.1")
        self._openssl("x509", "-req", "-in", request, "-CA", self.ca_file, "-CAkey", ca_key, "-CAcreateserial",
                      "-days", "2", "-extfile", extensions, "-out", self.cert_file)

    @staticmethod
    def _openssl(*arguments: object) -> None:
        subprocess.run(["openssl", *map(str, arguments)], check=True, capture_output=True, timeout=60)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, smtp, session, envelope, address: str, rcpt_options) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=default_policy)
        with self.server.lock:
            self.server.received.append(message)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


class MailServer:
    """One SMTP server; `received` holds the messages it accepted, parsed, in order.

    `security` is "none", "starttls" or "tls" (with `authority`); with a `username` it accepts only
    that login; `refuse` holds addresses it refuses as recipients."""

    def __init__(self, *, security: str = "none", authority: Authority | None = None, username: str = "",
                 password: str = "", refuse: tuple[str, ...] = ()) -> None:
        self.security, self.authority = security, authority
        self.username, self.password, self.refuse = username, password, set(refuse)
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> MailServer:
        """Listen (again, on the same port after `stop`)."""
        options: dict[str, object] = {}
        if self.security == "starttls":
            options["tls_context"] = self.authority.server_context()
        if self.security == "tls":
            # The whole connection is TLS already (aiosmtpd counts only STARTTLS as TLS, and warns
            # about a login required without it, so the login is offered but not required).
            options.update(ssl_context=self.authority.server_context(), auth_require_tls=False)
        if self.username:
            options.update(authenticator=self._authenticate, auth_required=self.security != "tls")
        self._controller = Controller(_Handler(self), hostname=HOST, port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def knet_settings(self, **changes: object) -> dict[str, object]:
        """A [mail] table for knet.toml that reaches this server."""
        settings = {"host": HOST, "port": self.port, "security": self.security, "sender": SENDER, "timeout": 5}
        if self.username:
            settings.update(username=self.username, password=self.password)
        settings.update(changes)
        return settings

    def _authenticate(self, server, session, envelope, mechanism: str, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.username
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535 itself
