"""Replication tests' tools: peering running nodes, writing at one of them as its staff would (through the
services, in this process, on the node's own database: its worker picks the changes up), and reading what
another node holds."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select

from auth import services as auth_services
from auth.models import User
from federation import client, keys
from federation.models import Change, Peer, Replica
from knet.app import create_app
from knet.db import db
from wiki import services as wiki
from wiki.content import page_uri
from wiki.models import Page

#: Replication settings for test nodes: pull every 2 s, look at waiting deliveries every second.
FAST = {"federation": {"pull_seconds": 2, "push_seconds": 1}}
WRITER = "grafeio"


@contextmanager
def at(node) -> Iterator:
    """The node's app in this process (its database, its instance), for writing or reading directly."""
    app = create_app(node.instance)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def peer_all(*nodes) -> None:
    """Every node adds every other (each agreement is active once both sides have added each other)."""
    for node in nodes:
        for other in nodes:
            if other is not node:
                result = node.knet("peer", "add", other.url, "--yes")
                assert result.returncode == 0, result.stdout + result.stderr


def eventually(check: Callable[[], object], what: str, seconds: float = 30.0):
    """Wait until `check()` is true (returning it), or fail saying what did not happen."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not value:
        pytest.fail(f"Within {seconds:.0f} s: {what}")
    return value


def writer() -> User:
    user = User.by_username(WRITER)
    if user is None:
        user = auth_services.create_local_user(WRITER, "a long test password", role="admin",
                                               display_name="Γραφείο Τύπου")
    return user


def write_page(title: str, body: str = "Κείμενο σελίδας.", visibility: str = "public") -> tuple[int, str]:
    """A new page by the node's press office (in an `at(node)` block); returns its id and URI."""
    page = wiki.create_page(writer(), wiki.PageInput(title, body, visibility=visibility), 100_000)
    db.session.commit()
    return page.id, page_uri(page.id)


def edit_page(page_id: int, **changes) -> None:
    page = db.session.get(Page, page_id)
    data = wiki.PageInput(changes.get("title", page.title), changes.get("body", page.current.body), page.language,
                          page.tag_names, changes.get("visibility", page.visibility), page.licence)
    wiki.update_page(writer(), page, data, page.revision, 100_000)
    db.session.commit()


def delete_page(page_id: int) -> None:
    wiki.delete_page(writer(), db.session.get(Page, page_id))
    db.session.commit()


def shared(node) -> dict[str, tuple[int, str | None]]:
    """What the node's change log says of each object it ever shared: its version, and its name (None
    once deleted or no longer shareable)."""
    with at(node):
        return {change.uri: (change.seq, (change.document or {}).get("name"))
                for change in db.session.scalars(select(Change))}


def replicas(node, home) -> dict[str, tuple[int, str | None]]:
    """The node's replicas of `home`'s objects, in the same shape (tombstones have no name)."""
    with at(node):
        found = db.session.scalars(select(Replica).join(Peer).where(Peer.url == home.url))
        return {replica.uri: (replica.version, (replica.document or {}).get("name")) for replica in found}


def live(state: dict[str, tuple[int, str | None]]) -> dict[str, str]:
    return {uri: name for uri, (_version, name) in state.items() if name is not None}


def peer_row(node, other) -> Peer:
    with at(node):
        peer = db.session.scalar(select(Peer).where(Peer.url == other.url))
        db.session.expunge(peer)
        return peer


def signed_get(sender, url: str) -> client.Answer:
    """GET from another node as `sender` would (signed with its current key)."""
    return client.get_signed(url, keys.load(sender.instance), sender.url)


def whole_log(sender, home) -> list[dict]:
    """Every activity of `home`'s change log, read page by page as `sender`."""
    items, after = [], 0
    while True:
        answer = signed_get(sender, f"{home.url}/federation/changes?after={after}&limit=100")
        assert answer.status == 200, answer.document
        items += answer.document["orderedItems"]
        if not answer.document.get("next"):
            return items
        after = answer.document["knet:last"]

