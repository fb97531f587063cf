"""What the node says to, and takes from, the public fediverse (Mastodon, Lemmy…), as pure functions.

The node actor publishes its public wiki pages and courses (`Article`s) and questions (`Page`s) to its
followers, as `Create`, `Update` and `Delete` activities addressed to the public; nothing that is not
`public` is ever in one. From servers that are not its peers it takes two activities only: a `Follow`
of the node actor, and the `Undo` of that Follow. The fediverse reads; it never writes here.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from federation import discovery, protocol
from federation.actor import CONTEXT, followers_url
from federation.protocol import Malformed, Refused

#: The special collection that addresses an activity to everyone.
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
#: What is published: wiki pages, courses and questions (answers, communities and people are not).
PUBLISHED_KINDS = ("page", "course", "question")
#: What a follower is not sent of a document: its conversation (knet's `context`, a community, means
#: something else to Mastodon) and its summary (which Mastodon shows as a content warning).
LEFT_OUT = ("context", "summary", "inReplyTo", "knet:version")


class NotAccepted(Refused):
    """An activity this node does not take from the fediverse (answered 403): it is read-only there."""


@dataclass(frozen=True)
class FollowRequest:
    """A Follow of the node actor, or the Undo of one, checked."""

    #: "Follow" or "Undo".
    type: str
    #: The follower's actor id.
    actor: str
    #: The id of the Follow (the one made, or the one undone; None when an Undo does not say).
    follow_id: str | None
    #: The Follow as the Accept names it back.
    follow: dict


def is_public(document: dict | None) -> bool:
    """Whether an object's document (knet.content.document) is one the node publishes to the fediverse."""
    return (document is not None and document.get("knet:visibility") == "public"
            and protocol.kind_of(document) in PUBLISHED_KINDS)


def public_object(document: dict, node_url: str) -> dict:
    """A public document as followers receive it: attributed to the node actor (the municipality speaks,
    not the person, whose name stays in the document) and addressed to the public."""
    obj = {name: value for name, value in document.items() if name not in LEFT_OUT}
    author = document.get("attributedTo")
    if isinstance(author, dict) and author.get("name"):
        obj["knet:author"] = author["name"]
    obj.update(attributedTo=discovery.actor_url(node_url), to=[PUBLIC], cc=[followers_url(node_url)],
               sensitive=False)
    return obj


def activity(kind: str, uri: str, document: dict | None, node_url: str, number: int, published: str) -> dict:
    """A Create or Update of a public document, or a Delete of the object at `uri` (document None)."""
    obj = public_object(document, node_url) if document is not None else {"id": uri, "type": "Tombstone"}
    return {"@context": CONTEXT, "id": f"{uri}#{kind.lower()}-{number}", "type": kind,
            "actor": discovery.actor_url(node_url), "published": published, "to": [PUBLIC],
            "cc": [followers_url(node_url)], "object": obj}


def accept(request: FollowRequest, node_url: str) -> dict:
    """The node's Accept of a Follow (answered at once: the node's public objects are for anyone)."""
    actor = discovery.actor_url(node_url)
    return {"@context": CONTEXT, "id": f"{actor}#accept-{uuid.uuid4().hex}", "type": "Accept", "actor": actor,
            "to": [request.actor], "object": request.follow}


def id_of(value: object) -> str | None:
    """An object's id, whether it is given as a string or as an object with an id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def parse(document: object, node_actor: str) -> FollowRequest:
    """Check an activity from the fediverse: a Follow of `node_actor`, or the Undo of one. Malformed (400)
    or NotAccepted (403) say why anything else is refused."""
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise Malformed("not-an-activity", _l("The body is not an activity: a JSON object with a type."))
    kind, actor = document["type"], id_of(document.get("actor"))
    if kind not in ("Follow", "Undo"):
        raise _read_only(kind)
    if actor is None or protocol.node_of(actor) is None:
        raise Malformed("no-actor", _l("The activity has no actor."))
    obj = document.get("object")
    if kind == "Follow":
        return FollowRequest("Follow", actor, _follow_id(document), _follow(document, actor, node_actor))
    if isinstance(obj, str):  # an Undo that names the Follow by its id alone
        return FollowRequest("Undo", actor, obj, {"id": obj, "type": "Follow", "actor": actor, "object": node_actor})
    if not isinstance(obj, dict) or obj.get("type") != "Follow":
        raise _read_only(f"Undo of {str((obj or {}).get('type') if isinstance(obj, dict) else obj)[:40]}")
    if id_of(obj.get("actor")) not in (None, actor):
        raise Malformed("actor-mismatch", _l("The Follow undone is not the activity's actor's own."))
    return FollowRequest("Undo", actor, id_of(obj), _follow(obj, actor, node_actor))


def _follow_id(document: dict) -> str:
    follow_id = id_of(document)
    if follow_id is None or len(follow_id) > protocol.MAX_URI:
        raise Malformed("bad-id", _l("The activity's “%(field)s” is not an http(s) address of at most %(size)d "
                                     "characters.", field="id", size=protocol.MAX_URI))
    return follow_id


def _follow(follow: dict, actor: str, node_actor: str) -> dict:
    if id_of(follow.get("object")) != node_actor:
        raise Malformed("wrong-object", _l("From outside its network, this node takes only a Follow of its own "
                                           "actor, %(actor)s.", actor=node_actor))
    return {"id": id_of(follow), "type": "Follow", "actor": actor, "object": node_actor}


def _read_only(kind: object) -> NotAccepted:
    return NotAccepted("read-only", _l("This node takes no “%(type)s” from outside its network: it publishes to "
                                       "the fediverse, and takes only a Follow of its actor and the Undo of that "
                                       "Follow.", type=str(kind)[:60]))
