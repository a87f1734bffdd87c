"""The JSON API shell: /api/v1, bearer-key authentication, JSON errors, OpenAPI."""

from cpa_network.api.auth import api_user, require_scope, requires_role  # noqa: F401
from cpa_network.api.blueprint import bp  # noqa: F401
