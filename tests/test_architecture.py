"""Dependencies point one way, and each outside library has one owner (CONVENTIONS.md, habits 3 and 4)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import auth
import knet
import wiki

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("knet", "auth", "wiki", "qa", "learning", "federation")
FEATURES = {"auth", "wiki", "qa", "learning", "federation"}
CONTENT = {"wiki", "qa", "learning"}
DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module a source file imports: plain, from-, relative, and importlib/__import__ with a literal."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:max(len(base) - (node.level - 1), 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target:
                found.add(target)
            found.update(f"{target}.{alias.name}" if target else alias.name for alias in node.names)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in DYNAMIC_IMPORTERS and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def top(name: str) -> str:
    return name.split(".")[0]


def violations(module: str, imported: set[str]) -> list[str]:
    """The rules of the architecture that one module's imports break."""
    package = top(module)
    tops = {top(name) for name in imported}
    problems = []
    if package == "knet" and module != "knet.app":
        problems += [f"imports the feature {t} (only knet.app wires features)" for t in sorted(tops & FEATURES)]
    if package == "auth":
        problems += [f"imports {t} (auth depends only on knet)" for t in sorted(tops & (FEATURES - {"auth"}))]
    if package == "federation":
        problems += [f"imports {t} (federation sees content only as documents)" for t in sorted(tops & CONTENT)]
    if package in CONTENT:
        others = (CONTENT | {"federation"}) - {package}
        problems += [f"imports {t} (feature packages never import each other or federation)"
                     for t in sorted(tops & others)]
    owners = {"markdown": module == "knet.markup", "nh3": module == "knet.markup",
              "whoosh": module == "knet.search" or module.startswith("knet.search."),
              "ldap": module.startswith("auth.ldap"),
              # Only federation talks to other nodes, through one client.
              "requests": module == "federation.client",
              "http_message_signatures": module == "federation.signatures",
              # Sign-on between municipalities: the provider, and the client of peers' providers.
              "authlib": module in ("auth.provider", "auth.provider_routes"),
              "joserfc": module in ("auth.provider", "auth.peer_signin"),
              # The two OAuth clients: of peers' providers, and of the national sign-in ([upstream]).
              "requests_oauthlib": module in ("auth.peer_signin", "auth.upstream"),
              "oauthlib": module in ("auth.peer_signin", "auth.upstream"),
              # MediaWiki import: the wikitext parser, and the streaming XML reader of exports.
              "mwparserfromhell": module == "wiki.wikitext",
              "lxml": module == "wiki.mediawiki",
              # SCORM manifests, parsed without DTDs or entities.
              "defusedxml": module == "learning.scorm_package",
              # Observability: /metrics in Prometheus' format, and log lines as JSON.
              "prometheus_client": module == "knet.metrics",
              "pythonjsonlogger": module == "knet.observability"}
    problems += [f"imports {library} (owned by another module)" for library, allowed in owners.items()
                 if library in tops and not allowed]
    return problems


def source_files() -> list[Path]:
    return sorted(path for package in PACKAGES if (ROOT / package).is_dir()
                  for path in (ROOT / package).rglob("*.py"))


def test_the_scan_sees_the_packages():
    names = {module_name(path) for path in source_files()}
    assert {"knet.app", "knet.markup", "auth.services", "wiki.services", "wiki.api"} <= names


@pytest.mark.parametrize("path", source_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_imports_follow_the_architecture(path):
    module = module_name(path)
    found = imports(path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py")
    assert violations(module, found) == []


def test_knet_app_is_where_features_are_wired():
    source = (ROOT / "knet" / "app.py").read_text(encoding="utf-8")
    assert {"auth", "wiki"} <= {top(name) for name in imports(source, "knet.app")}


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("knet.views", "import wiki", "feature wiki"),
    ("knet.db", "from auth.models import User", "feature auth"),
    ("auth.services", "from wiki import services", "imports wiki"),
    ("auth.routes", "from ..wiki import models", "imports wiki"),
    ("wiki.routes", "import importlib\nqa = importlib.import_module('qa.services')", "imports qa"),
    ("wiki.routes", "from federation.outbox import push", "imports federation"),
    ("learning.services", "from wiki.models import Page", "imports wiki"),
    ("wiki.services", "import markdown", "imports markdown"),
    ("knet.views", "from nh3 import clean", "imports nh3"),
    ("wiki.search", "import whoosh.index", "imports whoosh"),
    ("auth.services", "import ldap", "imports ldap"),
    ("federation.peers", "import requests", "imports requests"),
    ("federation.replicas", "from wiki.models import Page", "imports wiki"),
])
def test_the_checker_notices_forbidden_imports(module, source, expected):
    found = violations(module, imports(source, module))
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(("module", "source"), [
    ("knet.app", "import wiki\nimport auth"),
    ("wiki.api", "from auth.bearer import api_actor\nfrom knet.api import json_object"),
    ("knet.markup", "import markdown\nimport nh3"),
    ("knet.search.index", "from whoosh import index"),
    ("auth.ldap", "import ldap"),
    ("auth.ldap_sync", "import ldap.filter"),
    ("wiki.routes", "from . import services\nfrom .models import Page"),
])
def test_the_checker_allows_what_the_architecture_allows(module, source):
    assert violations(module, imports(source, module)) == []


def test_relative_imports_resolve_to_their_package():
    assert "wiki.models" in imports("from .models import Page", "wiki.services")
    assert "wiki.models" in imports("from .models import Page", "wiki", is_package=True)
    assert "auth.models" in imports("from ..models import User", "auth.ldap.sync")
    assert "auth" in imports("from .. import auth", "knet.app")


@pytest.mark.parametrize("package", [knet, auth, wiki], ids=lambda package: package.__name__)
def test_packages_are_this_repository(package):
    assert Path(package.__file__).resolve().is_relative_to(ROOT), (
        f"{package.__name__} was imported from {package.__file__}, not from {ROOT}: an unrelated distribution "
        f"of the same name is installed.")
