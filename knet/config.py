"""Node configuration: defaults, then the instance's knet.toml, then KNET_* environment variables."""
from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from knet.mail import SECURITY, mailbox

CONFIG_FILE = "knet.toml"
LANGUAGES = ("el", "en")
LICENCES = ("CC-BY-4.0", "CC0-1.0", "all-rights-reserved")
VISIBILITIES = ("private", "internal", "network", "public")
#: Highest page number a list accepts; beyond it an OFFSET would overflow the database's integers.
MAX_PAGE_NUMBER = 1_000_000

#: Values every node has unless its knet.toml or the environment says otherwise.
DEFAULTS: dict[str, object] = {
    "name": None,
    "url": None,
    "secret_key": None,
    "database": None,
    # Addresses (or networks) of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers
    # the node believes, such as ["127.0.0.1"] for nginx on the same server; none by default.
    "trusted_proxies": [],
    "default_language": "el",
    "max_body_bytes": 512 * 1024,
    "page_size": 25,
    "log_format": "text",           # "text" (one line per message) or "json" (one JSON object per line)
    "log_level": "info",            # the least severe messages logged: debug, info, warning or error
}
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
REQUIRED = ("name", "url", "secret_key")

#: The [ldap] table: where the municipality's directory is and how its people and groups look.
#: Without a `url` the node signs in local accounts only. Each key is also KNET_LDAP_<KEY>.
LDAP_DEFAULTS: dict[str, object] = {
    "url": [],                      # one address or several, tried in order (fail-over)
    "start_tls": False,
    "ca_file": "",
    "base_dn": "",
    "bind_dn": "",                  # a service account; without one, search anonymously
    "bind_password": "",
    "user_dn_template": "",         # or bind directly, e.g. "uid={username},ou=People,dc=example,dc=gr"
    "user_filter": "(uid={username})",
    "disabled_filter": "",          # e.g. "(userAccountControl:1.2.840.113556.1.4.803:=2)" on Active Directory
    "name_attribute": "displayName",
    "mail_attribute": "mail",
    "title_attribute": "title",
    "phone_attribute": "telephoneNumber",
    "group_base": "",               # default: base_dn
    "group_filter": "(&(objectClass=groupOfNames)(member={dn}))",
    "roles": {},                    # role -> group DN or list of group DNs
    "timeout": 5,                   # seconds, for connecting and for each operation
    "sync_minutes": 60,             # how often `knet worker` syncs users from the directory (0: never)
}
DIRECTORY_ROLES = ("editor", "trainer", "moderator", "admin")

#: The [mail] table: how the node sends e-mail (digests of unread notifications). Without a `host`
#: it sends none. Each key is also KNET_MAIL_<KEY>.
MAIL_DEFAULTS: dict[str, object] = {
    "host": "",
    "port": 25,
    "security": "starttls",         # "starttls", "tls" (from the start, usually port 465) or "none"
    "username": "",                 # log in only when set
    "password": "",
    "sender": "",                   # required with a host: "Δήμος Παραδείγματος <knet@example.gr>"
    "timeout": 10,                  # seconds, for connecting and for each reply
    "digest_minutes": 60,           # how often `knet worker` looks for people due a digest (0: never)
}

#: The [learning] table: limits of courses. Each key is also KNET_LEARNING_<KEY>.
LEARNING_DEFAULTS: dict[str, object] = {
    "max_upload_bytes": 20 * 1024 * 1024,  # the largest file a lesson takes (ZIP-based ones unpack to 10× at most)
    "issuer_email": "",                    # whom to ask about certificates (default: [mail] sender, if any)
}

#: The [upstream] table: a national public-sector OAuth2 provider (plain OAuth2 with a userinfo endpoint) as
#: another way for this node's own staff to sign in. Unused while `authorize_url` is empty. Each key is also
#: KNET_UPSTREAM_<KEY> (the secret is best given so).
UPSTREAM_DEFAULTS: dict[str, object] = {
    "name": "",             # what the sign-in button says: "Sign in with <name>"
    "authorize_url": "",
    "token_url": "",
    "userinfo_url": "",
    "client_id": "",
    "client_secret": "",
    "scope": "",            # space-separated, if the provider wants one
    "username_claim": "uid",  # the userinfo field that holds the person's user name here (their LDAP uid)
}
UPSTREAM_REQUIRED = ("name", "authorize_url", "token_url", "userinfo_url", "client_id", "client_secret")

#: The [federation] table: how often the node pulls from its peers and retries pushes to them.
FEDERATION_DEFAULTS: dict[str, object] = {
    "pull_seconds": 60,     # a pull from every active peer, even while pushes succeed (0: never)
    "push_seconds": 5,      # how often deliveries that wait for a retry are looked at
    "search_deadline_ms": 1500,  # how long a network search waits for its peers' answers
}

#: The [accessibility] table: what the accessibility statement (/accessibility, EU Directive 2016/2102) says
#: of this node. Each key is also KNET_ACCESSIBILITY_<KEY>.
ACCESSIBILITY_DEFAULTS: dict[str, object] = {
    "email": "",            # where people report what they cannot use (default: the [mail] sender's address)
    "phone": "",
    "conformance": "partial",  # with WCAG 2.1 AA: "full", "partial" or "none"
    "prepared": "",         # when the statement was first prepared, YYYY-MM-DD
    "reviewed": "",         # when it was last reviewed, YYYY-MM-DD
    "enforcement_url": "https://www.synigoros.gr/",  # whom to turn to when a reply does not satisfy
}
CONFORMANCE = ("full", "partial", "none")

#: The [metrics] table: who may read /metrics. Each key is also KNET_METRICS_<KEY>.
METRICS_DEFAULTS: dict[str, object] = {
    "token": "",            # a Prometheus that sends "Authorization: Bearer <token>" may read it from anywhere
    "allow_loopback": True,  # requests from 127.0.0.1 or ::1 that no proxy forwarded need no token
}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class ConfigError(Exception):
    """The instance's configuration is missing or wrong; the message says what to fix."""


@dataclass(frozen=True)
class Instance:
    """Where a node keeps its configuration and data."""

    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    def default_database_url(self) -> str:
        return f"sqlite:///{self.path / 'knet.db'}"


def resolve_instance(path: str | os.PathLike | None) -> Instance:
    """Pick the instance directory from the argument or KNET_INSTANCE."""
    chosen = path or os.environ.get("KNET_INSTANCE")
    if not chosen:
        raise ConfigError("No instance directory given: pass --instance DIR or set KNET_INSTANCE.")
    return Instance(Path(chosen).expanduser().resolve())


def load(instance: Instance, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Read and validate the settings of an instance."""
    environ = os.environ if environ is None else environ
    if not instance.config_file.is_file():
        raise ConfigError(
            f"{instance.config_file} does not exist: create the instance with 'knet init --instance {instance.path}'."
        )
    try:
        from_file = tomllib.loads(instance.config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{instance.config_file} is not valid TOML: {exc}.") from exc

    settings = dict(DEFAULTS)
    settings.update(from_file)
    for key, default in DEFAULTS.items():
        env_value = environ.get(f"KNET_{key.upper()}")
        if env_value is not None:
            settings[key] = _whole_number(env_value, f"KNET_{key.upper()}") if isinstance(default, int) else env_value
    settings["trusted_proxies"] = _trusted_proxies(settings["trusted_proxies"], instance)
    if not settings["database"]:
        settings["database"] = instance.default_database_url()
    settings["ldap"] = _ldap(from_file.get("ldap", {}), environ, instance)
    settings["mail"] = _mail(from_file.get("mail", {}), environ, instance)
    settings["learning"] = _learning(from_file.get("learning", {}), environ, instance)
    settings["upstream"] = _upstream(from_file.get("upstream", {}), environ, instance)
    settings["accessibility"] = _accessibility(from_file.get("accessibility", {}), environ, instance)
    settings["metrics"] = _metrics(from_file.get("metrics", {}), environ, instance)
    settings["federation"], where = _table("federation", FEDERATION_DEFAULTS, from_file.get("federation", {}),
                                           environ, instance)
    if not settings["federation"]["push_seconds"]:
        raise ConfigError(f"{where}: 'push_seconds' must be at least 1 second.")
    if not 100 <= settings["federation"]["search_deadline_ms"] <= 30_000:
        raise ConfigError(f"{where}: 'search_deadline_ms' must be from 100 to 30000 (milliseconds), such as 1500.")
    _validate(settings, instance)
    return settings


def _trusted_proxies(value: object, instance: Instance) -> list[str]:
    """The proxies' addresses as a list, each checked: from the file a list (or one string), from
    KNET_TRUSTED_PROXIES a string separated by commas or spaces, as gunicorn's --forwarded-allow-ips is."""
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ConfigError(f"'trusted_proxies' in {instance.config_file} must be a list of addresses, "
                          'such as ["127.0.0.1"].')
    for item in items:
        try:
            ipaddress.ip_network(item)
        except ValueError:
            raise ConfigError(f"'trusted_proxies' must hold IP addresses or networks (such as 127.0.0.1 or "
                              f"10.0.0.0/24), not {item!r}.") from None
    return items


def _ldap(from_file: object, environ: Mapping[str, str], instance: Instance) -> dict[str, object]:
    settings, where = _table("ldap", LDAP_DEFAULTS, from_file, environ, instance)
    if isinstance(settings["url"], str):
        settings["url"] = settings["url"].split()
    for url in settings["url"]:
        if not isinstance(url, str) or urlsplit(url).scheme not in ("ldap", "ldaps"):
            raise ConfigError(f"{where}: 'url' must be ldap:// or ldaps:// addresses, not {url!r}.")
    roles = settings["roles"]
    if not isinstance(roles, dict) or set(roles) - set(DIRECTORY_ROLES):
        raise ConfigError(f"{where}: 'roles' maps {', '.join(DIRECTORY_ROLES)} to group DNs.")
    settings["roles"] = {role: [groups] if isinstance(groups, str) else list(groups) for role, groups in roles.items()}
    if settings["url"]:
        if not settings["base_dn"] and not settings["user_dn_template"]:
            raise ConfigError(f"{where}: set 'base_dn' (where people are searched) or 'user_dn_template'.")
        if "{username}" not in str(settings["user_filter"]):
            raise ConfigError(f"{where}: 'user_filter' must contain {{username}}, e.g. (uid={{username}}).")
        if settings["bind_dn"] and not settings["bind_password"]:
            raise ConfigError(f"{where}: 'bind_dn' is set but 'bind_password' is empty.")
        if settings["ca_file"] and not Path(str(settings["ca_file"])).is_file():
            raise ConfigError(f"{where}: 'ca_file' {settings['ca_file']} does not exist.")
    if not settings["timeout"]:
        raise ConfigError(f"{where}: 'timeout' must be at least 1 second.")
    return settings


def _mail(from_file: object, environ: Mapping[str, str], instance: Instance) -> dict[str, object]:
    settings, where = _table("mail", MAIL_DEFAULTS, from_file, environ, instance)
    host = settings["host"]
    if settings["security"] not in SECURITY:
        raise ConfigError(f"{where}: 'security' must be one of {', '.join(SECURITY)}, not {settings['security']!r}.")
    if not settings["timeout"]:
        raise ConfigError(f"{where}: 'timeout' must be at least 1 second.")
    if not host:
        return settings
    if any(character in host for character in "/@ ") or host.count(":") == 1:
        raise ConfigError(f"{where}: 'host' is the server's name or address alone, such as smtp.example.gr "
                          f"(the port goes in 'port'), not {host!r}.")
    if not 0 < settings["port"] < 65536:
        raise ConfigError(f"{where}: 'port' must be between 1 and 65535, such as 25, 587 or 465.")
    if not settings["sender"]:
        raise ConfigError(f"{where}: set 'sender', the address the node's e-mails come from, "
                          "such as \"Δήμος Παραδείγματος <knet@example.gr>\".")
    if mailbox(settings["sender"]) is None:
        raise ConfigError(f"{where}: 'sender' must be one e-mail address, optionally with a name, such as "
                          f"\"Δήμος Παραδείγματος <knet@example.gr>\", not {settings['sender']!r}.")
    if bool(settings["username"]) != bool(settings["password"]):
        raise ConfigError(f"{where}: set both 'username' and 'password' to log in to the mail server, or neither.")
    if not (settings["username"] + settings["password"]).isascii():
        raise ConfigError(f"{where}: 'username' and 'password' can hold only ASCII letters, digits and symbols "
                          "(an SMTP login cannot carry Greek letters).")
    if settings["username"] and settings["security"] == "none":
        raise ConfigError(f"{where}: a login needs security = \"starttls\" or \"tls\", "
                          "or the password would cross the network unencrypted.")
    return settings


def _upstream(from_file: object, environ: Mapping[str, str], instance: Instance) -> dict[str, object]:
    settings, where = _table("upstream", UPSTREAM_DEFAULTS, from_file, environ, instance)
    if not any(settings[key] for key in UPSTREAM_REQUIRED):
        return settings
    missing = [key for key in UPSTREAM_REQUIRED if not settings[key]]
    if missing:
        raise ConfigError(f"{where}: set {', '.join(repr(key) for key in missing)} too, or none of the table.")
    for key in ("authorize_url", "token_url", "userinfo_url"):
        parts = urlsplit(str(settings[key]))
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            raise ConfigError(f"{where}: '{key}' must be an https:// address, not {settings[key]!r}.")
    if not settings["username_claim"]:
        raise ConfigError(f"{where}: 'username_claim' names the userinfo field with the person's user name, "
                          "such as \"uid\".")
    return settings


def _accessibility(from_file: object, environ: Mapping[str, str], instance: Instance) -> dict[str, object]:
    settings, where = _table("accessibility", ACCESSIBILITY_DEFAULTS, from_file, environ, instance)
    email = settings["email"]
    if email and (mailbox(email) is None or mailbox(email).display_name):
        raise ConfigError(f"{where}: 'email' must be one e-mail address alone, such as "
                          f"\"prosvasimotita@example.gr\", not {email!r}.")
    if settings["conformance"] not in CONFORMANCE:
        raise ConfigError(f"{where}: 'conformance' must be one of {', '.join(CONFORMANCE)}, "
                          f"not {settings['conformance']!r}.")
    for key in ("prepared", "reviewed"):
        if settings[key] and (not _ISO_DAY.fullmatch(settings[key]) or not _is_day(settings[key])):
            raise ConfigError(f"{where}: '{key}' must be a date written YYYY-MM-DD, such as \"2026-03-31\", "
                              f"not {settings[key]!r}.")
    if settings["prepared"] and settings["reviewed"] and settings["reviewed"] < settings["prepared"]:
        raise ConfigError(f"{where}: 'reviewed' ({settings['reviewed']}) is earlier than 'prepared' "
                          f"({settings['prepared']}).")
    if urlsplit(str(settings["enforcement_url"])).scheme not in ("http", "https"):
        raise ConfigError(f"{where}: 'enforcement_url' must be an http(s) address, "
                          f"not {settings['enforcement_url']!r}.")
    return settings


def _metrics(from_file: object, environ: Mapping[str, str], instance: Instance) -> dict[str, object]:
    settings, where = _table("metrics", METRICS_DEFAULTS, from_file, environ, instance)
    if not isinstance(settings["allow_loopback"], bool):
        raise ConfigError(f"{where}: 'allow_loopback' must be true or false, not {settings['allow_loopback']!r}.")
    if settings["token"] and len(settings["token"]) < 16:
        raise ConfigError(f"{where}: 'token' must have at least 16 characters (make one with: "
                          "python3 -c 'import secrets; print(secrets.token_urlsafe(32))').")
    return settings


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _learning(from_file: object, environ: Mapping[str, str], instance: Instance) -> dict[str, object]:
    settings, where = _table("learning", LEARNING_DEFAULTS, from_file, environ, instance)
    if not settings["max_upload_bytes"]:
        raise ConfigError(f"{where}: 'max_upload_bytes' must be at least 1 byte, such as 20971520 (20 MB).")
    issuer = settings["issuer_email"]
    if issuer and (mailbox(issuer) is None or mailbox(issuer).display_name):
        raise ConfigError(f"{where}: 'issuer_email' must be one e-mail address alone, such as "
                          f"\"ekpaideusi@example.gr\", not {issuer!r}.")
    return settings


def _table(name: str, defaults: dict[str, object], from_file: object, environ: Mapping[str, str],
           instance: Instance) -> tuple[dict[str, object], str]:
    """The [name] table: its defaults, then the file, then KNET_<NAME>_<KEY> variables, each value
    of the type its default has. Returns the settings and how to name the table in a message."""
    where = f"[{name}] in {instance.config_file}"
    if not isinstance(from_file, dict):
        raise ConfigError(f"{where} must be a table.")
    unknown = set(from_file) - set(defaults)
    if unknown:
        raise ConfigError(f"{where} has unknown keys: {', '.join(sorted(unknown))}.")
    settings = dict(defaults)
    settings.update(from_file)
    for key, default in defaults.items():
        variable = f"KNET_{name.upper()}_{key.upper()}"
        if variable in environ:
            settings[key] = _from_environment(environ[variable], default, variable)
        value = settings[key]
        if isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{where}: '{key}' must be text in quotes, not {value!r}.")
        if (isinstance(default, int) and not isinstance(default, bool)
                and (isinstance(value, bool) or not isinstance(value, int) or value < 0)):
            raise ConfigError(f"{where}: '{key}' must be a whole number (0 or more), not {value!r}.")
    return settings, where


def _from_environment(raw: str, default: object, variable: str) -> object:
    """A variable's text as a value of the type of the setting's default."""
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return _whole_number(raw, variable)
    if isinstance(default, list):
        return raw.split()
    if isinstance(default, dict):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ConfigError(f"{variable} must be JSON, such as "
                              '{"editor": ["cn=editors,ou=groups,dc=example,dc=gr"]}.') from exc
    return raw


def _whole_number(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None


def _validate(settings: dict[str, object], instance: Instance) -> None:
    for key in REQUIRED:
        if not settings.get(key):
            raise ConfigError(f"'{key}' is missing from {instance.config_file}.")
    url = urlsplit(str(settings["url"]))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConfigError(f"'url' must be an http(s) address such as https://knet.example.gr, not {settings['url']!r}.")
    if settings["default_language"] not in LANGUAGES:
        raise ConfigError(f"'default_language' must be one of {', '.join(LANGUAGES)}.")
    if not isinstance(settings["max_body_bytes"], int) or settings["max_body_bytes"] <= 0:
        raise ConfigError("'max_body_bytes' must be a positive whole number of bytes.")
    if settings["log_format"] not in LOG_FORMATS:
        raise ConfigError(f"'log_format' must be \"text\" or \"json\", not {settings['log_format']!r}.")
    if not isinstance(settings["log_level"], str) or settings["log_level"].lower() not in LOG_LEVELS:
        raise ConfigError(f"'log_level' must be one of {', '.join(LOG_LEVELS)}, not {settings['log_level']!r}.")
    settings["log_level"] = settings["log_level"].lower()
