"""Money API on the /api/v1 blueprint: deposits and balances. Amounts are integers in minor
units beside an ISO `currency`, as Stripe does."""

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.api import api_user, bp, requires_role
from payouts import deposits, statements
from payouts.currency import CURRENCIES
from payouts.deposits import AmountInvalid
from payouts.models import Deposit
from payouts.views import deposit_return_url, external_url


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
@requires_role("advertiser")
def get_deposit(deposit_id: int):
    return jsonify(deposit_json(deposits.deposit_for_user(deposit_id, api_user())))


@bp.route("/balances")
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
