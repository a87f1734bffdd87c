"""The readable API reference page at /api, rendered from the same OpenAPI document."""

from flask import Blueprint, render_template

from cpa_network.api.openapi import build_spec

bp = Blueprint("api_docs", __name__)


@bp.route("/api")
def reference():
    spec = build_spec()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    ]
    return render_template("api/reference.html", spec=spec, operations=operations)
