"""Money API on the /api/v1 blueprint: deposits and balances. Amounts are integers in minor
units beside an ISO `currency`, as Stripe does."""

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.api import api_user, bp, requires_role
from cpa_network.api.openapi import document, ref, register_schema
from payouts import deposits, statements
from payouts.currency import CURRENCIES
from payouts.deposits import AmountInvalid
from payouts.models import Deposit, DepositStatus
from payouts.views import deposit_return_url, external_url

MINOR = {"type": "integer", "description": "Minor units (cents, kopecks)."}
CURRENCY = {"enum": list(CURRENCIES), "description": "ISO 4217 code."}
DEPOSIT = register_schema("Deposit", {
    "type": "object",
    "required": ["id", "amount", "currency", "status", "gateway", "sandbox", "checkout_url",
                 "refunded_amount", "created_at", "credited_at"],
    "properties": {
        "id": {"type": "integer"}, "amount": MINOR, "currency": CURRENCY,
        "status": {"enum": [s.value for s in DepositStatus],
                   "description": "succeeded: the escrow is credited."},
        "gateway": {"enum": ["stripe", "sandbox"]},
        "sandbox": {"type": "boolean", "description": "No real money moved."},
        "checkout_url": {"type": ["string", "null"],
                         "description": "Stripe: where the payer completes the payment."},
        "refunded_amount": MINOR,
        "created_at": {"type": "string", "format": "date-time"},
        "credited_at": {"type": ["string", "null"], "format": "date-time"},
    },
})
BALANCES = register_schema("Balances", {
    "type": "object", "required": ["balances"],
    "properties": {"balances": {"type": "array", "items": {
        "type": "object", "required": ["currency"],
        "properties": {
            "currency": CURRENCY,
            "escrow": {**MINOR, "description": "Advertisers: prepaid, not committed."},
            "on_hold": {**MINOR, "description": "Advertisers: held for pending conversions."},
            "refunding": {**MINOR, "description": "Advertisers: withdrawals on their way."},
            "spent": {**MINOR, "description": "Advertisers: paid for approved conversions."},
            "pending": {**MINOR, "description": "Publishers: earned on pending conversions."},
            "available": {**MINOR, "description": "Publishers: approved, withdrawable."},
            "in_flight": {**MINOR, "description": "Publishers: payouts being transferred."},
            "paid": {**MINOR, "description": "Publishers: paid out, all time."},
        },
    }}},
})
DEPOSIT_REQUEST = {"type": "object", "required": ["amount", "currency"],
                   "properties": {"amount": {**MINOR, "minimum": deposits.MIN_AMOUNT_MINOR},
                                  "currency": CURRENCY}}


def deposit_json(deposit: Deposit) -> dict:
    return {
        "id": deposit.id, "amount": deposit.amount, "currency": deposit.currency,
        "status": deposit.status, "gateway": deposit.gateway,
        "sandbox": deposit.gateway == "sandbox",
        "checkout_url": deposit.checkout_url if deposit.status != "succeeded" else None,
        "refunded_amount": deposit.refunded_amount,
        "created_at": deposit.created_at.isoformat(),
        "credited_at": deposit.credited_at.isoformat() if deposit.credited_at else None,
    }


@bp.route("/deposits", methods=["POST"])
@document("Top up escrow", roles=("advertiser",), request=DEPOSIT_REQUEST, tags=("money",),
          description="Sandbox (no Stripe keys): credited at once, status `succeeded`. Stripe: "
                      "status `pending`; send the payer to `checkout_url`. The escrow is "
                      "credited when Stripe's signed webhook confirms the payment.",
          responses={201: ("The deposit.", DEPOSIT),
                     422: ("`amount_invalid` or `currency_unsupported`.", ref("Error")),
                     502: ("`gateway_error`: Stripe refused or failed.", ref("Error"))})
@requires_role("advertiser")
def create_deposit():
    """Sandbox: credited at once (status succeeded). Stripe: pay at `checkout_url`."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AmountInvalid(_l("Send a JSON object with an integer amount in minor units and a "
                               "currency, for example {\"amount\": 10000, \"currency\": \"USD\"}."))
    made = deposits.begin_deposit(
        api_user(), body.get("amount"), body.get("currency"),
        deposit_return_url,
        external_url("payouts.balance"))
    return jsonify(deposit_json(made)), 201


@bp.route("/deposits/<int:deposit_id>")
@document("One of your deposits", roles=("advertiser",), tags=("money",),
          responses={200: ("The deposit.", DEPOSIT), 404: ("Not yours, or no such deposit.",
                                                           ref("Error"))})
@requires_role("advertiser")
def get_deposit(deposit_id: int):
    return jsonify(deposit_json(deposits.deposit_for_user(deposit_id, api_user())))


@bp.route("/balances")
@document("Your balances per currency", tags=("money",),
          description="Advertisers get escrow, on_hold, refunding and spent; publishers get "
                      "pending, available, in_flight and paid; a user with both roles gets both.",
          responses={200: ("One row per supported currency.", BALANCES)})
def balances():
    """Per supported currency: escrow and on_hold (advertisers); pending, available, in_flight
    and paid (publishers)."""
    user = api_user()
    rows = []
    for code in CURRENCIES:
        row = {"currency": code}
        if user.is_advertiser:
            found = statements.advertiser_balances(user.id, code)
            row.update(escrow=found["escrow"], on_hold=found["on_hold"],
                       refunding=found["refunding"], spent=found["spent"])
        if user.is_publisher:
            row.update(statements.publisher_balances(user.id, code))
        rows.append(row)
    return jsonify(balances=rows)
