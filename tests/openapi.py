"""What every API's OpenAPI test checks: the blueprint's routes are all described, with their methods,
and every schema the document refers to is described too."""
from __future__ import annotations

import re


def documented(client, app, blueprint: str) -> dict:
    """The node's openapi.json, after checking that it describes every route of `blueprint` and every
    schema it refers to."""
    response = client.get("/api/v1/openapi.json")
    spec = response.json
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith(blueprint + ".")]
    assert rules, f"{blueprint} has no routes"
    for rule in rules:
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        assert path in spec["paths"], f"{rule.rule} is missing from openapi.json"
        methods = {method.upper() for method in spec["paths"][path] if method != "parameters"}
        assert rule.methods - {"HEAD", "OPTIONS"} <= methods, f"{rule.rule}: {rule.methods} not all described"
    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', response.get_data(as_text=True))):
        assert name in spec["components"]["schemas"], f"{name} is referenced but not described"
    return spec
