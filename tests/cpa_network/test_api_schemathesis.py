"""Property-based API test: schemathesis drives every documented operation of the live app
(WSGI, PostgreSQL) as an advertiser, a publisher and an operator, with data that fits the
document and data that does not. No answer may be a 5xx, and every answer (status and body)
must be one the document describes."""

import warnings

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import make_api_key, make_user
from tests.payouts.helpers import connected_publisher, fund_escrow

EXAMPLES = 5  # per operation, role and mode: bounds the run (see the README's figure)
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _seed() -> dict[str, str]:
    """One key per role, with money and a connected payout account so writes go deep."""
    advertiser = make_user("advertiser", email="adv@example.com")
    fund_escrow(advertiser.id, 500_00)
    publisher = connected_publisher(email="pub@example.com", earned=200_00)
    admin = make_user("admin", email="ops@example.com")
    return {"advertiser": make_api_key(advertiser), "publisher": make_api_key(publisher),
            "admin": make_api_key(admin)}


def _is_for(operation, role: str) -> bool:
    """The operation names `role` among its roles, or names none (anyone may call it)."""
    text = operation.definition.raw.get("description", "")
    return "Roles:" not in text or role in text.rpartition("Roles:")[2]


def _exercise(operation, role: str, mode: GenerationMode, key: str, failures: list) -> None:
    headers = {"Authorization": f"Bearer {key}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Exception as error:  # collected: every operation's failure is reported at the end
        failures.append(f"{operation.label} as {role} [{mode}]: {str(error)[:1500]}")


def test_every_operation_answers_what_the_document_says(app, app_context):
    keys = _seed()
    with warnings.catch_warnings():
        # schemathesis warns about schema features it skips (none are errors of ours)
        warnings.filterwarnings("ignore", module="schemathesis")
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
        failures: list[str] = []
        for result in schema.get_all_operations():
            operation = result.ok()
            for role, key in keys.items():
                if role == "admin" and not _is_for(operation, "admin"):
                    continue  # the other two roles already try every refusal; saves a third
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                    _exercise(operation, role, mode, key, failures)
    assert failures == [], "\n\n".join(failures)
