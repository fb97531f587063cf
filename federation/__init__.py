"""Federation: peers and agreements, keys and signatures, outbox and cursors, inbox, replicas, the change
log and federated search. Sees content only as documents; only this package makes outbound HTTP."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from federation import (admin_routes, changelog, changes_routes, delivery, discovery_routes, fan_out,
                        fediverse_delivery, fediverse_publishing, fediverse_routes, inbox, inbox_routes, keys,
                        metrics, replica_routes, replicas, search_routes, sign_on)
from federation.keys_cli import keys_group
from federation.peer_cli import peer_group
from knet import content, jobs
from knet import metrics as node_metrics
from knet.config import ConfigError

commands = (keys_group, peer_group)
#: Federation brings no sample content of its own.
demo_content = None


def init_app(app: Flask) -> None:
    """Give the node its first federation key if it has none (`knet init` starts the node, and a node
    made before federation existed gets one at its next start); serve discovery, the inbox and the change
    log; record content changes for peers, deliver them, pull peers' changes and keep their replicas; let
    the fediverse follow the node actor and send its followers the node's public objects."""
    try:
        keys.ensure_key(Path(app.instance_path))
    except keys.KeyRingError as exc:
        raise ConfigError(str(exc)) from None
    discovery_routes.init_app(app)
    inbox_routes.init_app(app)
    changes_routes.init_app(app)
    replica_routes.init_app(app)
    search_routes.init_app(app)
    fan_out.init_app(app)
    admin_routes.init_app(app)
    sign_on.init_app(app)
    content.register(app, replicas.CONTENT_TYPE)
    content.follow_changes(app, changelog.RECORD_JOB)
    jobs.register(app, changelog.RECORD_JOB, changelog.record, batch=changelog.RECORD_BATCH)
    jobs.register(app, inbox.APPLY_JOB, inbox.apply_received, batch=inbox.APPLY_BATCH)
    delivery.init_app(app)
    node_metrics.register_collector(app, metrics.peer_gauges)
    # The fediverse: followers of the node actor receive its public objects (federation.fediverse).
    fediverse_routes.init_app(app)
    content.follow_changes(app, fediverse_publishing.PUBLISH_JOB)
    jobs.register(app, fediverse_publishing.PUBLISH_JOB, fediverse_publishing.publish,
                  batch=fediverse_publishing.PUBLISH_BATCH)
    fediverse_delivery.init_app(app)
