"""Throwaway OpenLDAP directories for the sign-in tests: two municipalities whose directories look different.

athens()       dc=athens,dc=gr: a service account (anonymous users read nothing), the memberof overlay,
               people in nested departments, StartTLS with its own CA, a disabled account.
thessaloniki() dc=thessaloniki,dc=gr: anonymous search, no memberOf, people under ou=Staff found by uid
               or mail, groups under ou=Roles with spaces in their names.

Each is a SlapdServer: a real slapd in a temporary directory on a free port of 127.0.0.1.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port

SCHEMAS = ("core", "cosine", "nis", "inetorgperson")
DEFAULT_GROUP_FILTER = "(&(objectClass=groupOfNames)(member={dn}))"
ROLE_GROUPS = {"editor": "editors", "trainer": "trainers", "moderator": "moderators", "admin": "admins"}
TOOLS = ("slapd", "slapadd", "ldapsearch", "ldapmodify", "openssl")
# The command-line tools must not read /etc/ldap/ldap.conf or ~/.ldaprc: only what we pass counts.
_TOOL_ENV = {**os.environ, "LDAPNOINIT": "1"}


@dataclass(frozen=True)
class Account:
    """A person in a directory, as the directory was created (add_member/remove_member do not update it)."""

    username: str
    password: str
    dn: str
    display_name: str
    email: str
    groups: tuple[str, ...]       # group DNs
    departments: tuple[str, ...]  # OU names top-down below base_dn, e.g. ("Departments", "Finance", "Payroll")
    disabled: bool = False
    title: str = ""
    phone: str = ""


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None  # slapd is not on a user's PATH


def missing_tools() -> list[str]:
    return [name for name in TOOLS if _tool(name) is None]


def ssha(password: str) -> str:
    """The {SSHA} hash slappasswd would make: SHA-1 over password + salt, then the salt, base64-encoded."""
    salt = os.urandom(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


def rdn_value(value: str) -> str:
    """Escape a value for a DN (RFC 4514) with hex escapes, as OpenLDAP writes DNs back: o*(b)\\x -> o*(b)\\5Cx.

    `*`, `(` and `)` are special in search filters, not in DNs."""
    escaped = "".join(f"\\{ord(char):02X}" if char in '\\"+,;<>=' else char for char in value)
    if escaped[:1] in (" ", "#"):
        escaped = f"\\{ord(escaped[0]):02X}{escaped[1:]}"
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\20"
    return escaped


def _line(name: str, value: str) -> str:
    """One LDIF line; base64 (`name:: ...`) for anything that is not plain ASCII, such as Greek."""
    plain = value.isascii() and value == value.strip() and "\n" not in value and not value.startswith((":", "<"))
    return f"{name}: {value}" if plain else f"{name}:: {base64.b64encode(value.encode()).decode()}"


def ldif_entry(dn: str, **attributes: str | list[str] | tuple[str, ...]) -> str:
    lines = [_line("dn", dn)]
    for name, values in attributes.items():
        lines += [_line(name, value) for value in ([values] if isinstance(values, str) else values)]
    return "\n".join(lines) + "\n\n"


def _member_change(operation: str, group_dn: str, user_dn: str) -> str:
    return f"{_line('dn', group_dn)}\nchangetype: modify\n{operation}: member\n{_line('member', user_dn)}\n-\n\n"


class SlapdServer:
    """One slapd with one mdb database, configured through cn=config in a temporary directory."""

    def __init__(self, name: str, base_dn: str, *, organization: str, memberof: bool, anonymous_read: bool,
                 tls: bool, password_suffix: str, group_base: str, user_filter: str = "(uid={username})",
                 disabled_filter: str = "") -> None:
        self.name, self.base_dn, self.organization = name, base_dn, organization
        self.memberof, self.anonymous_read, self.tls = memberof, anonymous_read, tls
        self.password_suffix, self.group_base = password_suffix, group_base
        self.user_filter, self.disabled_filter, self.group_filter = user_filter, disabled_filter, DEFAULT_GROUP_FILTER
        self.root_dn, self.root_password = f"cn=admin,{base_dn}", f"root-secret-{name}"
        self.service_dn: str | None = None
        self.service_password: str | None = None
        self.accounts: dict[str, Account] = {}
        self.groups: dict[str, str] = {}         # "editors" -> group DN; ROLE_GROUPS maps knet's roles to these
        self.placeholder_member = self.root_dn   # see _group_entries
        self.dir: Path | None = None
        self.port: int | None = None
        self.ca_file: str | None = None
        self.started_in: float | None = None     # seconds start() took, data included
        self._entries: list[str] = []            # LDIF added online by start()
        self._undo: list[str] = []               # LDIF that reverses add_member/remove_member
        self._process: subprocess.Popen | None = None
        self._log = None

    # --- building the data (before start) ---

    def entry(self, dn: str, **attributes) -> None:
        self._entries.append(ldif_entry(dn, **attributes))

    def ou_dn(self, *path: str) -> str:
        return ",".join([f"ou={rdn_value(name)}" for name in reversed(path)] + [self.base_dn])

    def ou(self, *path: str, description: str | None = None) -> None:
        extra = {"description": description} if description else {}
        self.entry(self.ou_dn(*path), objectClass="organizationalUnit", ou=path[-1], **extra)

    def person(self, uid: str, departments: tuple[str, ...], cn: str, display_name: str, title: str, phone: str,
               *, groups: tuple[str, ...] = (), mail: str | None = None, password: str | None = None,
               disabled: bool = False) -> Account:
        domain = self.base_dn.split(",")[0].removeprefix("dc=")
        account = Account(uid, password or f"{uid}-pass-{self.password_suffix}",
                          f"uid={rdn_value(uid)},{self.ou_dn(*departments)}", display_name,
                          mail or f"{uid}@{domain}.gr", tuple(self.groups[key] for key in groups), departments,
                          disabled, title, phone)
        extra = {"employeeType": "disabled"} if disabled else {}
        self.entry(account.dn, objectClass="inetOrgPerson", uid=uid, cn=cn, sn=cn.split()[-1],
                   displayName=display_name, mail=account.email, title=title, telephoneNumber=phone,
                   userPassword=ssha(account.password), **extra)
        self.accounts[uid] = account
        return account

    def _group_entries(self) -> list[str]:
        # groupOfNames must have at least one member, so every group also lists a placeholder (athens: the
        # service account; thessaloniki: the root DN, not an entry): a test can then remove a group's last
        # person. Groups are added after the people, so the memberof overlay fills in their memberOf.
        entries = []
        for dn in self.groups.values():
            members = [account.dn for account in self.accounts.values() if dn in account.groups]
            entries.append(ldif_entry(dn, objectClass="groupOfNames", cn=dn.split(",")[0][3:],
                                      member=[*members, self.placeholder_member]))
        return entries

    # --- running ---

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None

    def start(self) -> SlapdServer:
        """Create the directory in a fresh temporary directory, start slapd and load the people and groups."""
        if missing_tools():
            raise RuntimeError(f"OpenLDAP is not installed ({', '.join(missing_tools())} missing): "
                               "apt-get install slapd ldap-utils openssl (scripts/test.sh does it as root).")
        began = time.monotonic()
        self.dir = Path(tempfile.mkdtemp(prefix=f"knet-slapd-{self.name}-"))
        self.port = free_port()
        try:
            (self.dir / "data").mkdir()
            (self.dir / "slapd.d").mkdir()
            if self.tls:
                self._make_certificates()
            (self.dir / "config.ldif").write_text(self._config_ldif(), encoding="utf-8")
            self._run(_tool("slapadd"), "-n0", "-F", str(self.dir / "slapd.d"), "-l", str(self.dir / "config.ldif"))
            self._launch()
            # Online, through slapd: an offline slapadd would bypass the memberof overlay (no memberOf).
            self.ldapmodify("".join(self._entries + self._group_entries()), add=True)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop slapd for good and delete its data."""
        self._halt()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def stop_temporarily(self) -> None:
        """Take the directory down, keeping its port and data for restart()."""
        self._halt()

    def restart(self) -> None:
        if not self.running:
            self._launch()

    @contextlib.contextmanager
    def offline(self):
        """`with directory.offline():` the directory is down inside the block and back up after it."""
        self.stop_temporarily()
        try:
            yield self
        finally:
            self.restart()

    def _run(self, *argv: str) -> None:
        result = subprocess.run(argv, capture_output=True, env=_TOOL_ENV, timeout=60)
        if result.returncode:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.decode(errors='replace')}")

    def _launch(self) -> None:
        # -d 0 keeps slapd in the foreground, so it stays our child; its own session (process group) lets
        # _halt() end it and anything it might start, and keeps a Ctrl-C in the terminal away from it.
        self._log = open(self.dir / "slapd.log", "ab")
        self._process = subprocess.Popen(
            [_tool("slapd"), "-F", str(self.dir / "slapd.d"), "-h", f"ldap://127.0.0.1:{self.port}/", "-d", "0"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            answer = subprocess.run([_tool("ldapsearch"), "-x", "-H", self.url, "-b", "", "-s", "base", "-LLL", "1.1"],
                                    capture_output=True, env=_TOOL_ENV, timeout=10)
            if answer.returncode == 0:
                return
            time.sleep(0.02)
        log = (self.dir / "slapd.log").read_text(encoding="utf-8", errors="replace")[-2000:]
        self._halt()
        raise RuntimeError(f"slapd for {self.base_dn} did not answer on {self.url}:\n{log}")

    def _halt(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=5)  # as slapd's parent, we reap it at once: no zombie lingers
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _make_certificates(self) -> None:
        """A CA, and a server certificate for 127.0.0.1 and localhost signed by it; ca_file is the CA."""
        d = self.dir
        ec = ["-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc", "-days", "2"]
        self._run(_tool("openssl"), "req", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"),
                  "-subj", f"/O=knet tests/CN=Test CA of {self.name}")
        self._run(_tool("openssl"), "req", *ec, "-keyout", str(d / "server.key"), "-out", str(d / "server.crt"),
                  "-subj", "/CN=localhost", "-CA", str(d / "ca.crt"), "-CAkey", str(d / "ca.key"),
                  "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-addext", "basicConstraints=CA:FALSE",
                  "-addext", "extendedKeyUsage=serverAuth")
        self.ca_file = str(d / "ca.crt")

    def _config_ldif(self) -> str:
        d = self.dir
        tls = {"olcTLSCACertificateFile": str(d / "ca.crt"), "olcTLSCertificateFile": str(d / "server.crt"),
               "olcTLSCertificateKeyFile": str(d / "server.key")} if self.tls else {}
        modules = ["back_mdb", "memberof", "refint"] if self.memberof else ["back_mdb"]
        config = ldif_entry("cn=config", objectClass="olcGlobal", cn="config", olcPidFile=str(d / "slapd.pid"), **tls)
        config += ldif_entry("cn=module{0},cn=config", objectClass="olcModuleList", cn="module{0}",
                             olcModulePath="/usr/lib/ldap", olcModuleLoad=modules)
        config += ldif_entry("cn=schema,cn=config", objectClass="olcSchemaConfig", cn="schema")
        config += "".join(f"include: file:///etc/ldap/schema/{schema}.ldif\n\n" for schema in SCHEMAS)
        everything_else = "by * read" if self.anonymous_read else "by users read by * none"
        config += ldif_entry(
            "olcDatabase={1}mdb,cn=config", objectClass=["olcDatabaseConfig", "olcMdbConfig"], olcDatabase="{1}mdb",
            olcDbDirectory=str(d / "data"), olcSuffix=self.base_dn, olcRootDN=self.root_dn,
            olcRootPW=ssha(self.root_password), olcDbNoSync="TRUE",
            olcDbIndex=["objectClass eq", "uid,mail,member eq"],
            olcAccess=["{0}to attrs=userPassword by self write by anonymous auth by * none",
                       f"{{1}}to * {everything_else}"])
        if self.memberof:
            config += ldif_entry(
                "olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config", objectClass=["olcOverlayConfig", "olcMemberOf"],
                olcOverlay="{0}memberof", olcMemberOfGroupOC="groupOfNames", olcMemberOfMemberAD="member",
                olcMemberOfMemberOfAD="memberOf", olcMemberOfRefInt="TRUE")
            config += ldif_entry("olcOverlay={1}refint,olcDatabase={1}mdb,cn=config", olcOverlay="{1}refint",
                                 objectClass=["olcOverlayConfig", "olcRefintConfig"], olcRefintAttribute="member")
        return config

    # --- changing it while it runs ---

    def ldapmodify(self, ldif: str, *, add: bool = False) -> None:
        """Apply LDIF as the root DN (add=True: entries without a changetype are added)."""
        argv = [_tool("ldapmodify"), "-x", "-H", self.url, "-D", self.root_dn, "-w", self.root_password]
        result = subprocess.run([*argv, *(["-a"] if add else [])], input=ldif.encode(), capture_output=True,
                                env=_TOOL_ENV, timeout=30)
        if result.returncode:
            raise RuntimeError(f"ldapmodify on {self.url} failed ({result.returncode}): "
                               f"{result.stderr.decode(errors='replace')}")

    def add_member(self, group_dn: str, user_dn: str) -> None:
        """Put someone in a group; restore() (the restore_directories fixture) takes them out again."""
        self.ldapmodify(_member_change("add", group_dn, user_dn))
        self._undo.append(_member_change("delete", group_dn, user_dn))

    def remove_member(self, group_dn: str, user_dn: str) -> None:
        self.ldapmodify(_member_change("delete", group_dn, user_dn))
        self._undo.append(_member_change("add", group_dn, user_dn))

    def rejoin(self, person) -> None:
        """Put a person whose entry a test deleted and added back into the groups they were created in
        (deleting an entry takes it out of every group; adding it back does not)."""
        self.ldapmodify("".join(_member_change("add", group, person.dn) for group in person.groups))

    def restore(self) -> None:
        """Bring the directory back up if a test took it down, and undo add_member/remove_member."""
        self.restart()
        undo, self._undo = self._undo, []
        if undo:
            self.ldapmodify("".join(reversed(undo)))

    def knet_settings(self) -> dict[str, object]:
        """The [ldap] table of knet.toml for this directory (attribute names are knet's defaults)."""
        settings: dict[str, object] = {
            "url": self.url, "base_dn": self.base_dn,
            "bind_dn": self.service_dn or "", "bind_password": self.service_password or "",
            "user_filter": self.user_filter, "group_base": self.group_base, "disabled_filter": self.disabled_filter,
            "start_tls": self.ca_file is not None, "ca_file": self.ca_file or "", "timeout": 3,
            "roles": {role: [self.groups[key]] if key in self.groups else [] for role, key in ROLE_GROUPS.items()},
        }
        if self.group_filter != DEFAULT_GROUP_FILTER:
            settings["group_filter"] = self.group_filter
        return settings


def athens() -> SlapdServer:
    """dc=athens,dc=gr: only signed-in users read, so knet needs the service account; memberOf; StartTLS."""
    d = SlapdServer("athens", "dc=athens,dc=gr", organization="Δήμος Αθηναίων", memberof=True, anonymous_read=False,
                    tls=True, password_suffix="A1", group_base="ou=groups,dc=athens,dc=gr",
                    disabled_filter="(employeeType=disabled)")
    d.service_dn, d.service_password = "cn=knet-service,ou=services,dc=athens,dc=gr", "service-secret-A"
    d.placeholder_member = d.service_dn
    d.entry(d.base_dn, objectClass=["dcObject", "organization"], dc="athens", o=d.organization)
    d.ou("services")
    d.entry(d.service_dn, objectClass=["organizationalRole", "simpleSecurityObject"], cn="knet-service",
            userPassword=ssha(d.service_password))
    d.ou("Departments")
    for *path, description in [("Finance", "Διεύθυνση Οικονομικών"), ("Finance", "Payroll", "Τμήμα Μισθοδοσίας"),
                               ("Finance", "Procurement", "Τμήμα Προμηθειών"), ("Technical", "Τεχνική Υπηρεσία"),
                               ("Technical", "GIS", "Τμήμα Γεωγραφικών Πληροφοριών")]:
        d.ou("Departments", *path, description=description)
    d.ou("groups")
    for key, cn in [("editors", "editors"), ("trainers", "trainers"), ("moderators", "moderators"),
                    ("admins", "knet-admins"), ("everyone", "everyone")]:
        d.groups[key] = f"cn={cn},ou=groups,{d.base_dn}"
    payroll, technical = ("Departments", "Finance", "Payroll"), ("Departments", "Technical")
    for uid, departments, cn, display_name, title, phone, groups in [
        ("maria", payroll, "Maria Papadopoulou", "Μαρία Παπαδοπούλου", "Προϊσταμένη Μισθοδοσίας", "101", ("editors",)),
        ("nikos", (*technical, "GIS"), "Nikos Georgiou", "Νίκος Γεωργίου", "Τοπογράφος Μηχανικός", "202",
         ("trainers", "editors")),
        ("eleni", ("Departments", "Finance", "Procurement"), "Eleni Konstantinou", "Ελένη Κωνσταντίνου",
         "Υπεύθυνη Προμηθειών", "303", ("moderators",)),
        ("admin.it", technical, "Giorgos Diacheiristis", "Γιώργος Διαχειριστής", "Διαχειριστής Συστημάτων", "404",
         ("admins",)),
        ("kostas", payroll, "Kostas Ioannou", "Κώστας Ιωάννου", "Λογιστής", "105", ()),
    ]:
        d.person(uid, departments, cn, display_name, title, f"+30 210 5277 {phone}", groups=(*groups, "everyone"))
    # A uid with every character that must be escaped in a search filter, and a backslash, which must be
    # escaped in a DN as well.
    d.person("o*(b)\\x", payroll, "Ourania Beka", "Ουρανία Μπέκα", "Ασκούμενη", "+30 210 5277 106",
             groups=("everyone",), mail="special@athens.gr", password="special-pass-A1")
    # Left the municipality: still in the directory (and in editors), marked by employeeType.
    d.person("former", payroll, "Former Employee", "Πρώην Υπάλληλος", "Πρώην Λογιστής", "+30 210 5277 107",
             groups=("editors", "everyone"), disabled=True)
    return d


def thessaloniki() -> SlapdServer:
    """dc=thessaloniki,dc=gr: anonymous search, no memberOf, sign-in by uid or mail, groups in ou=Roles."""
    d = SlapdServer("thessaloniki", "dc=thessaloniki,dc=gr", organization="Δήμος Θεσσαλονίκης", memberof=False,
                    anonymous_read=True, tls=False, password_suffix="B1", group_base="ou=Roles,dc=thessaloniki,dc=gr",
                    user_filter="(&(objectClass=inetOrgPerson)(|(uid={username})(mail={username})))")
    d.entry(d.base_dn, objectClass=["dcObject", "organization"], dc="thessaloniki", o=d.organization)
    d.ou("Staff")
    d.ou("Staff", "Urban Planning", description="Διεύθυνση Πολεοδομίας")
    d.ou("Staff", "Social Services", description="Διεύθυνση Κοινωνικής Πολιτικής")
    d.ou("Roles")
    for key, cn in [("editors", "Wiki Editors"), ("trainers", "Trainers"), ("admins", "Administrators")]:
        d.groups[key] = f"cn={cn},ou=Roles,{d.base_dn}"
    planning, social = ("Staff", "Urban Planning"), ("Staff", "Social Services")
    for uid, departments, cn, display_name, title, phone, groups in [
        ("anna", planning, "Anna Dimitriou", "Άννα Δημητρίου", "Αρχιτέκτων Μηχανικός", "101", ("editors",)),
        ("petros", social, "Petros Alexiou", "Πέτρος Αλεξίου", "Κοινωνικός Λειτουργός", "202", ("trainers",)),
        ("giorgos", ("Staff",), "Giorgos Stavrou", "Γιώργος Σταύρου", "Προϊστάμενος Πληροφορικής", "300", ("admins",)),
    ]:
        d.person(uid, departments, cn, display_name, title, f"+30 2310 877 {phone}", groups=groups)
    # Same uid as in athens on purpose: another person in another municipality.
    d.person("maria", social, "Maria Nikolaou", "Μαρία Νικολάου", "Ψυχολόγος", "+30 2310 877 203",
             mail="maria.nikolaou@thessaloniki.gr")
    return d
