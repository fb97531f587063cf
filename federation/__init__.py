"""Federation: peers and agreements, keys and signatures, outbox and cursors, inbox, replicas, the change
log and federated search. Sees content only as documents; only this package makes outbound HTTP."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from federation import discovery_routes, inbox_routes, keys
from federation.keys_cli import keys_group
from federation.peer_cli import peer_group
from knet.config import ConfigError

commands = (keys_group, peer_group)
#: Federation brings no sample content of its own.
demo_content = None


def init_app(app: Flask) -> None:
    """Give the node its first federation key if it has none (`knet init` starts the node, and a node
    made before federation existed gets one at its next start), and serve discovery and the inbox."""
    try:
        keys.ensure_key(Path(app.instance_path))
    except keys.KeyRingError as exc:
        raise ConfigError(str(exc)) from None
    discovery_routes.init_app(app)
    inbox_routes.init_app(app)
