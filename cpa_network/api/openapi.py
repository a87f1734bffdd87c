"""The OpenAPI 3.1 document, generated from the URL map and each view's `@document(...)`.

A view under /api/v1 without `@document` fails the test suite (tests/cpa_network/test_openapi),
so the document cannot drift from the code. Schemas are JSON Schema (OpenAPI 3.1 uses 2020-12).
"""

import re
from collections.abc import Callable

from flask import Flask, current_app

API_PREFIX = "/api/v1"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string", "description": "Stable machine-readable code."},
            "message": {"type": "string", "description": "Human-readable, in the key's language."},
            "fields": {"type": "object", "additionalProperties": {
                "type": "array", "items": {"type": "string"}}},
        },
    }},
}
COMPONENTS: dict[str, dict] = {"Error": ERROR_SCHEMA}
COMMON_ERRORS = {
    "401": "No valid API key.",
    "403": "The key's owner may not do this (role, scope or ownership).",
    "429": "`rate_limited`: the key's rate limit is reached; retry after `Retry-After` "
           "seconds.",
}
RETRY_AFTER = {"description": "Seconds until the key's window (`RATELIMIT_API`) resets.",
               "schema": {"type": "integer", "minimum": 1}}
_CONVERTER = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def register_schema(name: str, schema: dict) -> dict:
    """A named component schema; returns a `$ref` to it."""
    COMPONENTS[name] = schema
    return ref(name)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def document(summary: str, *, roles: tuple[str, ...] = (), request: dict | None = None,
             responses: dict[int, tuple[str, dict | None]] | None = None,
             query: dict[str, dict] | None = None, tags: tuple[str, ...] = (),
             description: str = "") -> Callable:
    """Attach the operation's OpenAPI description to a view function."""

    def decorator(view):
        view.openapi = {"summary": summary, "roles": roles, "request": request,
                        "responses": responses or {}, "query": query or {}, "tags": tags,
                        "description": description}
        return view

    return decorator


def api_rules(app: Flask):
    """Every (rule, method, view) under the API prefix."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, view


def _operation(rule, method: str, doc: dict) -> dict:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer" if f"<int:{name}>" in rule.rule else "string"}}
                  for name in _CONVERTER.findall(rule.rule)]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                   for name, schema in doc["query"].items()]
    responses = {}
    for status, (text, schema) in sorted(doc["responses"].items()):
        responses[str(status)] = {"description": text}
        if schema is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": schema}}
    for status, text in COMMON_ERRORS.items():
        responses.setdefault(status, {"description": text})
    if "{" in _CONVERTER.sub(r"{\1}", rule.rule):
        responses.setdefault("404", {"description": "`not_found`: no such object, or not "
                                                    "yours."})
    if doc["query"] or (doc["request"] is not None and method in ("POST", "PUT", "PATCH")):
        responses.setdefault("422", {"description": "`validation_failed`: `fields` names the "
                                                    "bad parameters or body fields."})
    for response in responses.values():
        response.setdefault("content", {"application/json": {"schema": ref("Error")}})
    responses["429"].setdefault("headers", {"Retry-After": RETRY_AFTER})
    operation = {
        "operationId": f"{rule.endpoint.split('.')[-1]}_{method.lower()}",
        "summary": doc["summary"],
        "tags": list(doc["tags"]) or [rule.rule.split("/")[3]],
        "parameters": parameters,
        "responses": responses,
    }
    if doc["roles"]:
        operation["description"] = (doc["description"] + "\n\n" if doc["description"] else "") + \
            "Roles: " + ", ".join(doc["roles"]) + "."
    elif doc["description"]:
        operation["description"] = doc["description"]
    if doc["request"] is not None and method in ("POST", "PUT", "PATCH"):
        operation["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": doc["request"]}}}
    if rule.endpoint == "api.openapi":
        operation["security"] = []
    return operation


def build_spec(app: Flask | None = None) -> dict:
    app = app or current_app
    paths: dict[str, dict] = {}
    for rule, method, view in api_rules(app):
        doc = getattr(view, "openapi", None)
        if doc is None:
            continue  # the drift test names it
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        paths.setdefault(path, {})[method.lower()] = _operation(rule, method, doc)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cpa-network API",
            "version": "1.0.0",
            "description": "Amounts are integers in minor units (cents, kopecks) beside an ISO "
                           "`currency`, as Stripe does. Authenticate with "
                           "`Authorization: Bearer <api key>`; keys have scopes `read` and "
                           "`write`. Errors: `{\"error\": {\"code\", \"message\", \"fields\"}}`; "
                           "`fields` names each bad parameter or body field. Lists take "
                           "`limit` (default 50, at most 200) and `cursor` (the previous "
                           "page's `next_cursor`; null on the last page); lists of dated rows "
                           "take `created_from`/`created_to` (ISO 8601 date or date-time, UTC "
                           "without an offset; a date as `created_to` includes that day).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": dict(sorted(COMPONENTS.items())),
        },
        "paths": dict(sorted(paths.items())),
    }
