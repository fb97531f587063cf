"""Discovery documents (pure builders): NodeInfo 2.1, which says what software a node runs and for which
municipality, and WebFinger (RFC 7033), which turns `acct:` names into addresses.

Only what may leave the node is ever named: WebFinger finds the node itself and people whose profile
is visible to the network (or public); anyone else is "not found", exactly like someone who does not
exist, so a peer cannot learn who works here from it.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
#: The version of knet's federation protocol; a peer refuses one it does not speak.
PROTOCOL_VERSION = 1
SOFTWARE = {"name": "knet", "version": "0.1.0"}
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
ACTIVITY_JSON = "application/activity+json"
SHAREABLE_PROFILES = ("network", "public")


@dataclass(frozen=True)
class Usage:
    """How many people use the node (counts only, as NodeInfo asks)."""

    users: int
    active_month: int
    active_halfyear: int


def nodeinfo_links(node_url: str) -> dict:
    """/.well-known/nodeinfo: where the NodeInfo document is."""
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": f"{node_url}/nodeinfo/2.1"}]}


def nodeinfo(name: str, node_url: str, default_language: str, usage: Usage) -> dict:
    """The NodeInfo 2.1 document, with the municipality and knet's protocol in its metadata."""
    return {
        "version": "2.1",
        "software": SOFTWARE,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        # Staff sign in through their municipality's directory; nobody registers.
        "openRegistrations": False,
        "usage": {"users": {"total": usage.users, "activeMonth": usage.active_month,
                            "activeHalfyear": usage.active_halfyear}},
        "metadata": {"nodeName": name, "municipality": name, "nodeUrl": node_url,
                     "defaultLanguage": default_language, "knetProtocolVersion": PROTOCOL_VERSION,
                     "actor": actor_url(node_url)},
    }


def actor_url(node_url: str) -> str:
    """The node document: the node as an ActivityPub actor (an Organization)."""
    return f"{node_url}/federation/actor"


def host_of(node_url: str) -> str:
    """The node's host as `acct:` names use it (with its port when it has one)."""
    return urlsplit(node_url).netloc


def node_account(node_url: str) -> str:
    """The node's own `acct:` name: acct:<host>@<host>, as other servers name an instance."""
    return f"acct:{host_of(node_url)}@{host_of(node_url)}"


def parse_account(resource: str, node_url: str) -> str | None:
    """The user part of an `acct:user@host` resource on this node; "" for the node itself (by its
    `acct:` name or its URL); None for anything that names no one here."""
    if resource in (node_url, node_url + "/", actor_url(node_url), node_account(node_url)):
        return ""
    if not resource.startswith("acct:"):
        return None
    user, at, host = resource[len("acct:"):].rpartition("@")
    if not at or not user or host.lower() != host_of(node_url).lower():
        return None
    return user


def node_jrd(node_url: str) -> dict:
    return {"subject": node_account(node_url), "aliases": [node_url, actor_url(node_url)],
            "links": [{"rel": "self", "type": ACTIVITY_JSON, "href": actor_url(node_url)},
                      {"rel": PROFILE_PAGE, "type": "text/html", "href": node_url + "/"}]}


def person_jrd(node_url: str, username: str, profile_url: str) -> dict:
    return {"subject": f"acct:{username}@{host_of(node_url)}", "aliases": [profile_url],
            "links": [{"rel": PROFILE_PAGE, "type": "text/html", "href": profile_url}]}


def only_rels(jrd: dict, rels: list[str]) -> dict:
    """RFC 7033 §4.3: with rel parameters, only the links of those relations."""
    if not rels:
        return jrd
    return {**jrd, "links": [link for link in jrd["links"] if link["rel"] in rels]}
