"""E-mail from the node over SMTP (the [mail] table of knet.toml): the only smtplib importer.

Messages are built with `compose` (a plain-text part and an HTML alternative, both UTF-8) and sent
through an `Outbox`, one connection for many messages. Every failure is a `MailError` whose text
is a sentence for the IT officer's log or `knet mail test`.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Mapping
from email import errors as email_errors, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from markupsafe import Markup

from knet.db import utcnow

SECURITY = ("none", "starttls", "tls")
_PAGE = Markup('<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
               '</head>\n<body>\n{body}\n</body>\n</html>\n')


class MailError(Exception):
    """The mail server could not be reached or refused; `str()` says what happened and what to check."""


class Refused(MailError):
    """The server would not take one message (its recipient or its content); others may still go."""


def mailbox(text: str, name: str = "") -> Address | None:
    """The one address in `text` ("knet@example.gr" or "Δήμος <knet@example.gr>"), with `name` as its
    display name when given; None when `text` is not exactly one valid address."""
    try:
        header = policy.default.header_factory("To", text)
    except (ValueError, IndexError, email_errors.HeaderParseError):  # the parser gives up on some inputs
        return None
    if header.defects or len(header.addresses) != 1:
        return None
    found = header.addresses[0]
    if not found.username or not found.domain:
        return None
    return Address(display_name=name or found.display_name, username=found.username, domain=found.domain)


def compose(settings: Mapping[str, object], to: Address, subject: str, text: str, html: Markup,
            language: str) -> EmailMessage:
    """A message from the node's sender to one person: `text`, and `html` (the inside of <body>,
    escaped by the caller with Markup) as its alternative in a page of the given language."""
    sender = mailbox(str(settings["sender"]))
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=sender.domain)
    # Sent by a program (RFC 3834): out-of-office replies should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(_PAGE.format(language=language, title=subject, body=html), subtype="html")
    message["Content-Language"] = language  # after the parts exist, or it would move into the first
    return message


def send(settings: Mapping[str, object], messages: Iterable[EmailMessage]) -> None:
    """Send messages over one connection; the first failure stops the rest."""
    with Outbox(settings) as outbox:
        for message in messages:
            outbox.send(message)


class Outbox:
    """One connection to the mail server, opened (TLS and login included) on entering `with`."""

    def __init__(self, settings: Mapping[str, object]) -> None:
        self.settings = settings
        self.server_name = f"{settings['host']}:{settings['port']}"
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Outbox:
        self._smtp = self._connect()
        try:
            self._secure_and_log_in()
        except BaseException:
            self._smtp.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass  # the messages are sent (or failed) already; a rude goodbye changes nothing
        finally:
            self._smtp.close()

    def send(self, message: EmailMessage) -> None:
        """Hand one message to the server: `Refused` if it will not take this one, `MailError` if
        the connection or the sender failed (then no other message can go either)."""
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            address, (code, reply) = next(iter(exc.recipients.items()))
            raise Refused(f"The mail server refused the recipient {address}: {code} {_text(reply)}.") from None
        except smtplib.SMTPSenderRefused as exc:
            raise MailError(f"The mail server refused the sender {exc.sender}: {exc.smtp_code} "
                            f"{_text(exc.smtp_error)}. Check 'sender' in [mail], and 'username' and 'password' if "
                            "the server wants a login.") from None
        except smtplib.SMTPDataError as exc:
            raise Refused(f"The mail server refused the message to {message['To']}: {exc.smtp_code} "
                          f"{_text(exc.smtp_error)}.") from None
        except smtplib.SMTPNotSupportedError as exc:  # an address that needs SMTPUTF8
            raise Refused(f"The mail server cannot take the message to {message['To']}: {exc}.") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"The connection to the mail server {self.server_name} was lost: {_reason(exc)}.") from None

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = str(self.settings["host"]), int(self.settings["port"]), self.settings["timeout"]
        try:
            if self.settings["security"] == "tls":
                return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
            return smtplib.SMTP(host, port, timeout=timeout)
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            # smtplib reports a greeting that never came as a lost connection caused by a timeout.
            if not isinstance(exc, TimeoutError) and not isinstance(exc.__context__, TimeoutError):
                raise MailError(f"The mail server {self.server_name} could not be reached: {_reason(exc)}.") from None
            hint = ("" if self.settings["security"] == "tls"
                    else '; if it expects TLS from the start, set security = "tls"')
            raise MailError(f"The mail server {self.server_name} did not answer in time "
                            f"(timeout = {timeout} in [mail]){hint}.") from None

    def _secure_and_log_in(self) -> None:
        smtp, username = self._smtp, str(self.settings["username"])
        try:
            if self.settings["security"] == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        except smtplib.SMTPNotSupportedError:
            raise MailError(f"The mail server {self.server_name} does not offer STARTTLS: set security = \"tls\" "
                            "if it expects TLS from the start, or \"none\" for a relay without encryption.") from None
        except ssl.SSLError as exc:
            raise self._tls_error(exc) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"STARTTLS with the mail server {self.server_name} failed: {_reason(exc)}.") from None
        if not username:
            return
        try:
            smtp.login(username, str(self.settings["password"]))
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"The mail server {self.server_name} refused the login of {username} "
                            f"({exc.smtp_code} {_text(exc.smtp_error)}): check 'username' and 'password' "
                            "in [mail].") from None
        except smtplib.SMTPNotSupportedError:
            raise MailError(f"The mail server {self.server_name} does not accept a login: remove 'username' "
                            "and 'password' from [mail] if it relays without one.") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"The login to the mail server {self.server_name} failed: {_reason(exc)}.") from None

    def _tls_error(self, exc: ssl.SSLError) -> MailError:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return MailError(f"The mail server {self.server_name} did not prove who it is ({exc.verify_message}): "
                             f"its certificate must be issued for {self.settings['host']} by an authority this "
                             "system trusts.")
        return MailError(f"TLS with the mail server {self.server_name} failed ({exc.reason or exc}): check "
                         "'security' (\"tls\" usually on port 465, \"starttls\" on 587 or 25).")


def _text(reply: bytes | str) -> str:
    """A server's reply as text, without its trailing full stop (the sentence adds one)."""
    return (reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)).strip().rstrip(".")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).rstrip(".")
