"""The municipality's directory (OpenLDAP or Active Directory): the only module that imports python-ldap.

Signing in searches the person (as the service account, or anonymously), then binds as them with
the password they typed; without a search, `user_dn_template` names their entry directly. Every
value put into a filter or a DN is escaped, an empty password is refused before any bind (many
servers take it as an anonymous bind that succeeds), referrals are not chased, and every network
step has a timeout. Roles come from group membership: `memberOf` when the directory keeps it,
otherwise a search of the groups that list the person as a `member`.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import ldap
import ldap.dn
import ldap.filter
from ldap.controls import SimplePagedResultsControl

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
#: Errors that mean "the directory cannot be reached", as opposed to "it said no".
_UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.TIMELIMIT_EXCEEDED)


class DirectoryError(Exception):
    """The directory refused or failed; `str()` is a sentence for the IT officer's log or `knet ldap test`."""


class Unavailable(DirectoryError):
    """No configured server answered, or the service account could not bind."""

    def __init__(self, message: str, step: str = "connect") -> None:
        super().__init__(message)
        #: Which step of `knet ldap test` this stopped at.
        self.step = step


class BadCredentials(DirectoryError):
    """Unknown user, wrong password, or several entries match the name."""


class Disabled(DirectoryError):
    """The person exists but the directory marks the account as disabled."""


@dataclass(frozen=True)
class Person:
    """What the directory says about one person."""

    username: str
    dn: str
    name: str
    email: str | None
    title: str
    phone: str
    #: Organisational units from the top (just below base_dn) down to the person's own, as (DN, name).
    units: tuple[tuple[str, str], ...]
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    disabled: bool = False


@dataclass(frozen=True)
class Step:
    """One step of `knet ldap test`: what was tried and what came of it."""

    name: str
    ok: bool
    detail: str


def escape_filter_value(value: str) -> str:
    """A value made safe to put inside an LDAP filter (RFC 4515)."""
    return ldap.filter.escape_filter_chars(value)


def normal_dn(dn: str) -> str:
    """A DN in one spelling (lower case, no spaces around separators), for comparing DNs."""
    try:
        return ldap.dn.dn2str([[(kind.lower(), value.lower(), flags) for kind, value, flags in rdn]
                               for rdn in ldap.dn.str2dn(dn)])
    except ldap.DECODING_ERROR:
        return dn.strip().lower()


@dataclass
class Directory:
    """A configured directory ([ldap] in knet.toml); safe to share between threads."""

    settings: dict[str, Any]
    _service: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    # -- signing in -----------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Person:
        """The person with this name and password, or an exception saying why not."""
        if not password:
            raise BadCredentials("An empty password is never sent to the directory.")
        if not username or "\x00" in username:
            raise BadCredentials("The user name is empty or contains a NUL character.")
        if self.settings["user_dn_template"] and not self.settings["bind_dn"]:
            dn = self.settings["user_dn_template"].format(username=ldap.dn.escape_dn_chars(username))
            with self._bound_as(dn, password) as conn:
                if self.settings["disabled_filter"] and self._search(conn, dn, self.settings["disabled_filter"],
                                                                     scope=ldap.SCOPE_BASE, attributes=["1.1"]):
                    raise Disabled(f"{dn} matches disabled_filter.")
                entry = self._read(conn, dn)
                return self._person(conn, dn, entry, username)
        dn, entry = self._find(username)
        if self._is_disabled(dn):
            raise Disabled(f"{dn} matches disabled_filter.")
        with self._bound_as(dn, password) as conn:
            if self.settings["bind_dn"]:
                return self._service_call(lambda service: self._person(service, dn, entry, username))
            return self._person(conn, dn, entry, username)

    def people(self) -> Iterator[Person]:
        """Everyone the user filter matches under base_dn, page by page (for `knet ldap sync`)."""
        attribute = self.username_attribute()
        everyone = self.settings["user_filter"].replace("{username}", "*")
        found = self._service_call(lambda conn: list(self._paged(conn, everyone)))
        disabled: set[str] = set()
        if self.settings["disabled_filter"]:
            query = f"(&{everyone}{self.settings['disabled_filter']})"
            disabled = {normal_dn(dn) for dn, _entry in self._service_call(lambda conn: list(self._paged(conn, query)))}
        memberships = None
        for dn, entry in found:
            if not entry.get(attribute):
                continue
            if entry.get("memberOf"):
                groups = tuple(_strings(entry["memberOf"]))
            else:
                if memberships is None:  # one pass over every group instead of a search per person
                    memberships = self._service_call(self._all_memberships)
                groups = memberships.get(normal_dn(dn), ())
            yield self._make_person(dn, entry, _text(entry[attribute][0]), groups, normal_dn(dn) in disabled)

    def username_attribute(self) -> str:
        """The attribute that holds sign-in names: the first one compared with {username} in user_filter."""
        found = re.search(r"\(\s*([A-Za-z][\w-]*)\s*=\s*\{username\}", self.settings["user_filter"])
        return found.group(1) if found else "uid"

    # -- diagnosis ------------------------------------------------------------------------------

    def diagnose(self, username: str | None = None, password: str | None = None) -> Iterator[Step]:
        """Check the configuration step by step, stopping at the first step that fails."""
        try:
            conn, url = self._connect()
        except Unavailable as exc:
            if exc.step == "tls":
                yield Step("connect", True, "A server answered.")
            yield Step(exc.step, False, str(exc))
            return
        try:
            yield Step("connect", True, f"{url} answered.")
            if self.settings["start_tls"] or url.startswith("ldaps:"):
                yield Step("tls", True, "StartTLS succeeded; the certificate was verified." if self.settings["start_tls"]
                           else "ldaps: the certificate was verified.")
            try:
                self._bind_service(conn)
            except Unavailable as exc:
                yield Step("service bind", False, str(exc))
                return
            who = f"as {self.settings['bind_dn']}" if self.settings["bind_dn"] else "anonymously"
            yield Step("service bind", True, f"Bound {who}.")
            if not username:
                return
            if self.settings["user_dn_template"] and not self.settings["bind_dn"]:
                dn = self.settings["user_dn_template"].format(username=ldap.dn.escape_dn_chars(username))
                yield Step("user search", True, f"No search: user_dn_template gives {dn}.")
            else:
                query = self._user_query(username)
                found = self._search_few(conn, query)
                if len(found) != 1:
                    many = "more than one entry" if found else "no entry"
                    yield Step("user search", False, f"{query} under {self.settings['base_dn']} found {many}; "
                               "it must find exactly one (check base_dn and user_filter).")
                    return
                dn = found[0][0]
                yield Step("user search", True, f"{query} found 1 entry: {dn}.")
                if self._is_disabled(dn):
                    yield Step("disabled", False, f"{dn} matches disabled_filter, so it may not sign in.")
                    return
            if password is None:
                return
            try:
                person = self.authenticate(username, password)
            except DirectoryError as exc:
                yield Step("user bind", False, str(exc))
                return
            yield Step("user bind", True, f"{person.dn} signed in with that password.")
            yield Step("groups", True, f"{len(person.groups)} group(s): " + ("; ".join(person.groups) or "none") + ".")
            yield Step("roles", True, "Roles: " + ", ".join(("reader",) + person.roles) + ".")
        finally:
            conn.unbind_s()

    def close(self) -> None:
        with self._lock:
            if self._service is not None:
                _unbind_quietly(self._service)
                self._service = None

    # -- connections ----------------------------------------------------------------------------

    def _connect(self) -> tuple[Any, str]:
        """A new connection to the first server that answers (StartTLS done when configured)."""
        problems, tls_failures = [], 0
        for url in self.settings["url"]:
            conn = ldap.initialize(url)
            timeout = self.settings["timeout"]
            conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
            conn.set_option(ldap.OPT_REFERRALS, 0)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
            conn.set_option(ldap.OPT_TIMEOUT, timeout)
            conn.timeout = timeout
            if self.settings["ca_file"]:
                conn.set_option(ldap.OPT_X_TLS_CACERTFILE, self.settings["ca_file"])
            conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
            conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # after every TLS option: makes them take effect
            try:
                if self.settings["start_tls"]:
                    conn.start_tls_s()
                else:
                    _probe(conn)
                return conn, url
            except ldap.CONNECT_ERROR as exc:
                problems.append(f"{url}: TLS failed ({_reason(exc)})")
                tls_failures += 1
            except _UNREACHABLE as exc:
                problems.append(f"{url}: {_reason(exc)}")
            except ldap.LDAPError as exc:  # the server answered but refused StartTLS
                problems.append(f"{url}: StartTLS refused ({_reason(exc)})")
                tls_failures += 1
            _unbind_quietly(conn)
        step = "tls" if tls_failures == len(problems) else "connect"
        raise Unavailable("No directory server answered: " + "; ".join(problems) + ".", step)

    def _bind_service(self, conn: Any) -> None:
        try:
            if self.settings["bind_dn"]:
                conn.simple_bind_s(self.settings["bind_dn"], self.settings["bind_password"])
        except ldap.INVALID_CREDENTIALS:
            raise Unavailable(f"The service account {self.settings['bind_dn']} was refused: "
                              "check bind_dn and bind_password.") from None
        except ldap.LDAPError as exc:
            raise Unavailable(f"The service account could not bind: {_reason(exc)}.") from None

    def _service_call(self, work):
        """Run work(connection) on the shared service connection, reconnecting once if it dropped."""
        with self._lock:
            for attempt in (1, 2):
                if self._service is None:
                    conn, _url = self._connect()
                    try:
                        self._bind_service(conn)
                    except Unavailable:
                        _unbind_quietly(conn)
                        raise
                    self._service = conn
                try:
                    return work(self._service)
                except _UNREACHABLE as exc:
                    _unbind_quietly(self._service)
                    self._service = None
                    if attempt == 2:
                        raise Unavailable(f"The directory stopped answering: {_reason(exc)}.") from None
                except ldap.LDAPError as exc:
                    raise Unavailable(f"The directory refused a search: {_reason(exc)}.") from None

    @contextmanager
    def _bound_as(self, dn: str, password: str) -> Iterator[Any]:
        conn, _url = self._connect()
        try:
            try:
                conn.simple_bind_s(dn, password)
            except (ldap.INVALID_CREDENTIALS, ldap.UNWILLING_TO_PERFORM, ldap.INVALID_DN_SYNTAX,
                    ldap.NO_SUCH_OBJECT) as exc:
                raise BadCredentials(f"The directory refused the password for {dn} ({_reason(exc)}).") from None
            except _UNREACHABLE as exc:
                raise Unavailable(f"The directory stopped answering: {_reason(exc)}.") from None
            yield conn
        finally:
            _unbind_quietly(conn)

    # -- searches -------------------------------------------------------------------------------

    def _user_query(self, username: str) -> str:
        return self.settings["user_filter"].replace("{username}", escape_filter_value(username))

    def _find(self, username: str) -> tuple[str, dict]:
        query = self._user_query(username)
        found = self._service_call(lambda conn: self._search_few(conn, query))
        if len(found) != 1:
            many = "more than one entry" if found else "no entry"
            raise BadCredentials(f"{query} found {many} under {self.settings['base_dn']}.")
        return found[0]

    def _search_few(self, conn: Any, query: str) -> list[tuple[str, dict]]:
        """The entries a user query finds: none, one, or two standing for "more than one"."""
        try:
            return self._search(conn, self.settings["base_dn"], query, sizelimit=2)
        except ldap.SIZELIMIT_EXCEEDED:
            return [("", {}), ("", {})]

    def _is_disabled(self, dn: str) -> bool:
        if not self.settings["disabled_filter"]:
            return False
        found = self._service_call(lambda conn: self._search(conn, dn, self.settings["disabled_filter"],
                                                             scope=ldap.SCOPE_BASE, attributes=["1.1"]))
        return bool(found)

    def _attributes(self) -> list[str]:
        s = self.settings
        return [self.username_attribute(), s["name_attribute"], "cn", s["mail_attribute"], s["title_attribute"],
                s["phone_attribute"], "memberOf"]

    def _search(self, conn: Any, base: str, query: str, *, scope: int = ldap.SCOPE_SUBTREE,
                attributes: list[str] | None = None, sizelimit: int = 0) -> list[tuple[str, dict]]:
        try:
            results = conn.search_ext_s(base, scope, query, attributes or self._attributes(),
                                        timeout=self.settings["timeout"], sizelimit=sizelimit)
        except ldap.NO_SUCH_OBJECT:
            return []
        return [(dn, entry) for dn, entry in results if dn is not None]  # skip referrals

    def _paged(self, conn: Any, query: str) -> Iterator[tuple[str, dict]]:
        control = SimplePagedResultsControl(True, size=PAGE_SIZE, cookie="")
        while True:
            message = conn.search_ext(self.settings["base_dn"], ldap.SCOPE_SUBTREE, query, self._attributes(), serverctrls=[control])
            _type, results, _id, controls = conn.result3(message, timeout=self.settings["timeout"])
            yield from ((dn, entry) for dn, entry in results if dn is not None)
            cookies = [c.cookie for c in controls if c.controlType == SimplePagedResultsControl.controlType]
            if not cookies or not cookies[0]:
                return
            control.cookie = cookies[0]

    def _read(self, conn: Any, dn: str) -> dict:
        found = self._search(conn, dn, "(objectClass=*)", scope=ldap.SCOPE_BASE)
        return found[0][1] if found else {}

    def _groups_of(self, conn: Any, dn: str, entry: dict) -> tuple[str, ...]:
        if entry.get("memberOf"):
            return tuple(_strings(entry["memberOf"]))
        query = ldap.filter.filter_format(self.settings["group_filter"].replace("{dn}", "%s"), [dn])
        base = self.settings["group_base"] or self.settings["base_dn"]
        return tuple(found for found, _entry in self._search(conn, base, query, attributes=["1.1"]))

    def _all_memberships(self, conn: Any) -> dict[str, tuple[str, ...]]:
        """Person DN -> the DNs of their groups, from one pass over the groups (directories without memberOf)."""
        base = self.settings["group_base"] or self.settings["base_dn"]
        query = self.settings["group_filter"].replace("{dn}", "*")
        memberships: dict[str, list[str]] = {}
        for group, entry in self._search(conn, base, query, attributes=["member", "uniqueMember"]):
            for member in _strings(entry.get("member", []) + entry.get("uniqueMember", [])):
                memberships.setdefault(normal_dn(member), []).append(group)
        return {member: tuple(groups) for member, groups in memberships.items()}

    def _person(self, conn: Any, dn: str, entry: dict, typed: str) -> Person:
        # The directory's spelling of the name, not the typed one: "MARIA" and "maria@…" are maria.
        values = entry.get(self.username_attribute())
        username = _text(values[0]) if values else typed
        return self._make_person(dn, entry, username, self._groups_of(conn, dn, entry))

    def _make_person(self, dn: str, entry: dict, username: str, groups: tuple[str, ...],
                     disabled: bool = False) -> Person:
        s = self.settings

        def first(name: str) -> str:
            return _text((entry.get(name) or [b""])[0])

        mine = {normal_dn(group) for group in groups}
        roles = tuple(role for role, dns in s["roles"].items() if mine & {normal_dn(group) for group in dns})
        return Person(username=username, dn=dn, name=first(s["name_attribute"]) or first("cn") or username,
                      email=first(s["mail_attribute"]) or None, title=first(s["title_attribute"]),
                      phone=first(s["phone_attribute"]), units=self._units(dn), groups=groups,
                      roles=roles, disabled=disabled)

    def _units(self, dn: str) -> tuple[tuple[str, str], ...]:
        """The OU chain between base_dn and the person, top-down, each with its own DN."""
        rdns = ldap.dn.str2dn(dn)
        base = len(ldap.dn.str2dn(self.settings["base_dn"])) if self.settings["base_dn"] else 0
        units = []
        for depth in range(len(rdns) - base - 1, 0, -1):
            kind, value, _flags = rdns[depth][0]
            if kind.lower() == "ou":
                units.append((ldap.dn.dn2str(rdns[depth:]), value))
        return tuple(units)


def _probe(conn: Any) -> None:
    """Make libldap connect now (it connects lazily), so that a dead server is skipped for the next."""
    try:
        conn.whoami_s()
    except _UNREACHABLE:
        raise
    except ldap.LDAPError:
        pass  # it answered, even if it does not offer "who am I"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace").strip() if isinstance(value, bytes) else value.strip()


def _strings(values: list) -> list[str]:
    return [_text(value) for value in values or []]


def _reason(exc: ldap.LDAPError) -> str:
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    reason = details.get("desc") or type(exc).__name__
    if details.get("info"):
        reason += f": {details['info']}"
    return reason


def _unbind_quietly(conn: Any) -> None:
    try:
        conn.unbind_s()
    except ldap.LDAPError:
        pass
