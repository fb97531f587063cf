"""Delivering to the fediverse: each activity to each inbox is a job, signed with the node's RSA key
(draft-cavage) when it is sent. An answer is read as deliveries to peers read it (federation.delivery):
a connection error, a timeout, 401, 408, 429 or 5xx fails the job, which knet.jobs tries again with the
same backoff as deliveries to peers; another 4xx is a refusal for good, logged and not retried."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from federation import client, delivery, keys, peers
from federation.actor import fediverse_key_url
from knet import jobs

logger = logging.getLogger(__name__)

DELIVER_JOB = "fediverse.deliver"
#: Tries of one delivery: with the backoff of deliveries to peers (up to 10 minutes between tries), a
#: server that is down for about an hour and a half still gets it.
MAX_ATTEMPTS = 16


class DeliveryFailed(Exception):
    """An inbox did not take an activity this time; the job is tried again."""


def send(inbox: str, activity: dict) -> None:
    """Queue an activity for an inbox, in the caller's transaction."""
    jobs.enqueue(DELIVER_JOB, inbox=inbox, activity=activity)


def deliver(inbox: str, activity: dict) -> None:
    """Job handler: POST the activity to the inbox, signed; DeliveryFailed when it should be tried again."""
    node = peers.own_url()
    key = keys.fediverse_key(Path(current_app.instance_path))
    try:
        answer = client.post_cavage(inbox, activity, fediverse_key_url(node), key, timeout=delivery.PUSH_TIMEOUT)
    except client.PeerUnreachable as exc:
        raise DeliveryFailed(str(exc)) from None
    outcome = delivery.outcome_of(inbox, answer)
    if not outcome.done:
        raise DeliveryFailed(outcome.reason)
    if outcome.dead:
        logger.warning("%s refused %s %s for good: %s", inbox, activity.get("type"), activity.get("id"), outcome.reason)
    else:
        logger.debug("Delivered %s %s to %s", activity.get("type"), activity.get("id"), inbox)


def init_app(app: Flask) -> None:
    jobs.register(app, DELIVER_JOB, deliver, max_attempts=MAX_ATTEMPTS, retry_after=delivery.backoff)
