"""Node configuration: defaults, then the instance's knet.toml, then KNET_* environment variables."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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
    "default_language": "el",
    "max_body_bytes": 512 * 1024,
    "page_size": 25,
}
REQUIRED = ("name", "url", "secret_key")


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


def load(instance: Instance, environ: dict[str, str] | None = None) -> dict[str, object]:
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
            settings[key] = int(env_value) if isinstance(default, int) else env_value
    if not settings["database"]:
        settings["database"] = instance.default_database_url()
    _validate(settings, instance)
    return settings


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
