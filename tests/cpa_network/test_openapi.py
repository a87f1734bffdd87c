"""The OpenAPI document is complete, valid, and what the API answers matches it."""

import jsonschema
from openapi_spec_validator import validate

from cpa_network.api.openapi import api_rules, build_spec
from tests.factories import make_api_key, make_user


def test_every_api_route_is_documented(app):
    undocumented = sorted(f"{method} {rule.rule}" for rule, method, view in api_rules(app)
                          if getattr(view, "openapi", None) is None)
    assert undocumented == [], "add @document(...) to: " + ", ".join(undocumented)


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200  # public: no key needed
    spec = response.json
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert "/api/v1/me" in spec["paths"]


def response_schema(spec: dict, path: str, method: str, status: int) -> dict:
    schema = spec["paths"][path][method]["responses"][str(status)]["content"][
        "application/json"]["schema"]
    return {**schema, "components": spec["components"]}


def test_me_answers_what_the_document_says(client, app, app_context):
    key = make_api_key(make_user("advertiser"))
    with app.app_context():
        spec = build_spec(app)
    ok = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    jsonschema.validate(ok.json, response_schema(spec, "/api/v1/me", "get", 200))
    denied = client.get("/api/v1/me")
    jsonschema.validate(denied.json, response_schema(spec, "/api/v1/me", "get", 401))


def test_reference_page_lists_operations(client, app):
    html = client.get("/api").get_data(as_text=True)
    assert "/api/v1/me" in html and "Who the key belongs to" in html
    with app.app_context():
        spec = build_spec(app)
    missing = [f"{method} {path}" for path, methods in spec["paths"].items()
               for method, operation in methods.items()
               if f'id="{operation["operationId"]}"' not in html]
    assert missing == []
    assert "Rows per page (default 50, at most 200)." in html
