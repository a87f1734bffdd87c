"""Money API on the /api/v1 blueprint: deposits, balances, withdrawals. Amounts are integers in
minor units beside an ISO `currency`, as Stripe does."""

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.api import api_user, bp, requires_role
from cpa_network.api.openapi import document, ref, register_schema
from cpa_network.api.pagination import (
    LIST_QUERY,
    choice_arg,
    date_range,
    keyset_page,
    list_schema,
)
from cpa_network.errors import ValidationFailed
from cpa_network.extensions import db
from payouts import deposits, request_keys, statements, withdrawals
from payouts.currency import CURRENCIES
from payouts.deposits import AmountInvalid
from payouts.models import AccountKind, Deposit, DepositStatus, Payout, PayoutStatus
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
                   "description": "succeeded: the escrow (advertisers) or the available "
                                  "balance (publishers) is credited."},
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
            "disputed": {**MINOR, "description": "Advertisers: deposits the card issuer took "
                                                 "back while a chargeback is undecided."},
            "owed": {**MINOR, "description": "Advertisers: what escrow lacked when a deposit "
                                             "was charged back; repaid first from your next "
                                             "money."},
            "pending": {**MINOR, "description": "Publishers: earned on pending conversions."},
            "available": {**MINOR, "description": "Publishers: approved earnings and "
                                                             "top-ups (see withdrawable)."},
            "in_flight": {**MINOR, "description": "Publishers: payouts being transferred."},
            "paid": {**MINOR, "description": "Publishers: paid out, all time."},
            "top_up_disputed": {**MINOR, "description": "Publishers: top-ups the card issuer "
                                                        "took back while a chargeback is "
                                                        "undecided."},
            "top_up_owed": {**MINOR, "description": "Publishers: what available lacked when "
                                                    "a top-up was charged back; repaid first "
                                                    "from your next money."},
            "top_up_clearing": {**MINOR, "description": "Publishers: card top-ups of the last "
                                                        "TOP_UP_CLEARING_DAYS days, which can "
                                                        "be spent but not withdrawn yet."},
            "withdrawable": {**MINOR, "description": "Publishers: what a withdrawal can take "
                                                     "now (available less top_up_owed and "
                                                     "top_up_clearing)."},
        },
    }}},
})
# What a deposit credits, by the `account` a caller may name (the default follows the role).
DEPOSIT_ACCOUNTS = {"escrow": AccountKind.ADVERTISER_ESCROW,
                    "available": AccountKind.PUBLISHER_AVAILABLE}
DEPOSIT_REQUEST = {"type": "object", "required": ["amount", "currency"],
                   "properties": {"amount": {**MINOR, "minimum": deposits.MIN_AMOUNT_MINOR},
                                  "currency": CURRENCY,
                                  "account": {"enum": list(DEPOSIT_ACCOUNTS), "description":
                                              "`escrow` (advertisers, the default for them) "
                                              "or `available` (publishers, the default for a "
                                              "publisher who is not an advertiser)."}}}


# How the money endpoints document the optional `Idempotency-Key` header.
IDEMPOTENCY_NOTE = (
    "Send an `Idempotency-Key` header (1 to 64 visible ASCII characters, e.g. a UUID you make "
    "per request) to make retrying safe: the same key from the same user answers the object "
    "the first request made, with status 200 and `Idempotent-Replayed: true`, and moves no "
    "money again; the same key with another amount or currency is refused with 422 "
    "`idempotency_key_reused`. Keys do not expire. A refused request keeps nothing: sent "
    "again with its key, it is tried again.")
IDEMPOTENCY_422 = ("`idempotency_key_invalid` (the header is malformed) or "
                   "`idempotency_key_reused` (the key made a request with another amount or "
                   "currency)")


def idempotent(body, created: bool, status: int = 201):
    """The answer of a request that may be a replay of an `Idempotency-Key`."""
    if created:
        return body, status
    return body, 200, {"Idempotent-Replayed": "true"}


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
@document("Top up escrow or your available balance", roles=("advertiser", "publisher"),
          request=DEPOSIT_REQUEST, tags=("money",),
          description="Advertisers top up their escrow; publishers top up their available "
                      "balance (to buy lots on the exchange; it is withdrawn like earnings, "
                      "never refunded to the card). Sandbox (no Stripe keys): credited at once, "
                      "status `succeeded`. Stripe: status `pending`; send the payer to "
                      "`checkout_url`. The account is credited when Stripe's signed webhook "
                      "confirms the payment.\n\n" + IDEMPOTENCY_NOTE + " A replay opens no "
                      "second Checkout, and a key used for one `account` is refused for the "
                      "other. A replay that arrives while the first request is still opening "
                      "the Checkout answers the deposit `created`, without a `checkout_url` "
                      "yet: get the deposit again a moment later. A deposit whose Checkout "
                      "could not be opened (502) keeps no key.",
          responses={200: ("A replay of an `Idempotency-Key`: the deposit it made, as it is "
                           "now.", DEPOSIT),
                     201: ("The deposit.", DEPOSIT),
                     403: ("`forbidden`: the `account` is not one your role has.", ref("Error")),
                     422: ("`amount_invalid`, `currency_unsupported`, `validation_failed` "
                           "(unknown `account`), " + IDEMPOTENCY_422 + ".", ref("Error")),
                     502: ("`gateway_error`: Stripe refused or failed.", ref("Error"))})
@requires_role("advertiser", "publisher")
def create_deposit():
    """Sandbox: credited at once (status succeeded). Stripe: pay at `checkout_url`."""
    user = api_user()
    key = request_keys.api_key(user.id, request.headers.get(request_keys.HEADER))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        message = _l("Send a JSON object with an integer amount in minor units and a "
                     "currency, for example {\"amount\": 10000, \"currency\": \"USD\"}.")
        raise AmountInvalid(message, fields={"amount": [message]})
    account = body.get("account") or ("escrow" if user.is_advertiser else "available")
    if not isinstance(account, str) or account not in DEPOSIT_ACCOUNTS:  # a list: unhashable
        raise ValidationFailed(fields={"account": [_l("Use escrow or available.")]})
    kind = DEPOSIT_ACCOUNTS[account]
    made, first = deposits.begin_deposit_once(
        user, body.get("amount"), body.get("currency"),
        deposit_return_url,
        external_url("payouts.balance" if kind == AccountKind.ADVERTISER_ESCROW
                     else "earnings.index"),
        kind, key)  # committed: a new deposit by begin_deposit; a replay wrote nothing
    return idempotent(jsonify(deposit_json(made)), first)


@bp.route("/deposits/<int:deposit_id>")
@document("One of your deposits", roles=("advertiser", "publisher"), tags=("money",),
          responses={200: ("The deposit.", DEPOSIT), 404: ("Not yours, or no such deposit.",
                                                           ref("Error"))})
@requires_role("advertiser", "publisher")
def get_deposit(deposit_id: int):
    return jsonify(deposit_json(deposits.deposit_for_user(deposit_id, api_user())))


@bp.route("/deposits")
@document("Your deposits and top-ups, newest first", roles=("advertiser", "publisher"),
          tags=("money",),
          query={"status": {"enum": [s.value for s in DepositStatus]}, **LIST_QUERY},
          responses={200: ("A page of deposits.", list_schema("deposits", DEPOSIT))})
@requires_role("advertiser", "publisher")
def list_deposits():
    status = choice_arg("status", [s.value for s in DepositStatus])
    query = deposits.deposits_query(api_user().id, status, kind=None)
    rows, cursor = keyset_page(date_range(query, Deposit.created_at), Deposit.id)
    return jsonify(deposits=[deposit_json(d) for d in rows], next_cursor=cursor)


@bp.route("/balances")
@document("Your balances per currency", tags=("money",),
          description="Advertisers get escrow, on_hold, refunding, spent, disputed and owed; "
                      "publishers get pending, available, in_flight, paid, top_up_disputed, "
                      "top_up_owed, top_up_clearing and withdrawable; a user with both roles "
                      "gets both.",
          responses={200: ("One row per supported currency.", BALANCES)})
def balances():
    """Per supported currency, the advertiser's and the publisher's balances (as the pages
    show them)."""
    user = api_user()
    rows = []
    for code in CURRENCIES:
        row = {"currency": code}
        if user.is_advertiser:
            found = statements.advertiser_balances(user.id, code)
            row.update(found)
        if user.is_publisher:
            row.update(statements.publisher_balances(user.id, code))
        rows.append(row)
    return jsonify(balances=rows)


PAYOUT = register_schema("Withdrawal", {
    "type": "object",
    "required": ["id", "amount", "currency", "status", "gateway", "sandbox", "automatic",
                 "transfer_id", "failure_code", "failure_reason", "reversed_amount",
                 "requested_at", "submitted_at", "settled_at"],
    "properties": {
        "id": {"type": "integer"}, "amount": MINOR, "currency": CURRENCY,
        "status": {"enum": [s.value for s in PayoutStatus],
                   "description": "requested -> submitting -> submitted -> paid, or failed "
                                  "(the money is back in available)."},
        "gateway": {"enum": ["stripe", "sandbox"]},
        "sandbox": {"type": "boolean", "description": "No real money moved."},
        "automatic": {"type": "boolean", "description": "Made by the weekly automatic payouts."},
        "transfer_id": {"type": ["string", "null"], "description": "The Stripe transfer."},
        "failure_code": {"type": "string"}, "failure_reason": {"type": "string"},
        "reversed_amount": {**MINOR, "description": "What the gateway took back of the paid "
                                                    "transfer; it is back in available."},
        "requested_at": {"type": "string", "format": "date-time"},
        "submitted_at": {"type": ["string", "null"], "format": "date-time"},
        "settled_at": {"type": ["string", "null"], "format": "date-time",
                       "description": "When it was paid or failed."},
    },
})
WITHDRAWALS = register_schema("Withdrawals", list_schema("withdrawals", ref("Withdrawal")))
WITHDRAWAL_REQUEST = {"type": "object", "required": ["amount", "currency"],
                      "properties": {"amount": {**MINOR, "description": "Minor units; at least "
                                                "the minimum payout, at most what is available."},
                                     "currency": CURRENCY}}


def payout_json(payout: Payout) -> dict:
    def stamp(value):
        return value.isoformat() if value else None

    return {
        "id": payout.id, "amount": payout.amount, "currency": payout.currency,
        "status": payout.status, "gateway": payout.gateway,
        "sandbox": payout.gateway == "sandbox", "automatic": payout.automatic,
        "transfer_id": payout.transfer_id, "failure_code": payout.failure_code,
        "failure_reason": payout.failure_reason, "reversed_amount": payout.reversed_amount,
        "requested_at": stamp(payout.requested_at),
        "submitted_at": stamp(payout.submitted_at), "settled_at": stamp(payout.settled_at),
    }


@bp.route("/withdrawals", methods=["POST"])
@document("Withdraw available earnings", roles=("publisher",), request=WITHDRAWAL_REQUEST,
          tags=("money",),
          description="Moves the amount from available to in flight at once and queues the "
                      "transfer to your connected payout account; poll the withdrawal for its "
                      "status. Sandbox (no Stripe keys): paid by the worker without real money."
                      "\n\n" + IDEMPOTENCY_NOTE,
          responses={200: ("A replay of an `Idempotency-Key`: the withdrawal it made, as it "
                           "is now.", PAYOUT),
                     201: ("The withdrawal, status `requested`.", PAYOUT),
                     403: ("`forbidden` (not a publisher) or `account_blocked`.", ref("Error")),
                     409: ("`exceeds_available`, `top_up_clearing` (card top-ups not "
                           "withdrawable yet; `fields.amount` says how much is and from when), "
                           "`payout_account_missing` or `payout_account_incomplete`.",
                           ref("Error")),
                     422: ("`amount_invalid`, `currency_unsupported`, `below_threshold`, "
                           + IDEMPOTENCY_422 + ".", ref("Error"))})
@requires_role("publisher")
def create_withdrawal():
    user = api_user()
    key = request_keys.api_key(user.id, request.headers.get(request_keys.HEADER))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        message = _l("Send a JSON object with an integer amount in minor units and a "
                     "currency, for example {\"amount\": 5000, \"currency\": \"USD\"}.")
        raise AmountInvalid(message, fields={"amount": [message]})
    payout, made = withdrawals.withdraw(user, body.get("amount"), body.get("currency"), key)
    db.session.commit()
    return idempotent(jsonify(payout_json(payout)), made)


@bp.route("/withdrawals")
@document("Your withdrawals, newest first", roles=("publisher",), tags=("money",),
          query={"status": {"enum": [s.value for s in PayoutStatus]}, **LIST_QUERY},
          description="`created_from`/`created_to` filter on `requested_at`.",
          responses={200: ("A page of withdrawals.", WITHDRAWALS)})
@requires_role("publisher")
def list_withdrawals():
    status = choice_arg("status", [s.value for s in PayoutStatus])
    query = withdrawals.payouts_query(api_user().id, status)
    rows, cursor = keyset_page(date_range(query, Payout.requested_at), Payout.id)
    return jsonify(withdrawals=[payout_json(payout) for payout in rows], next_cursor=cursor)


@bp.route("/withdrawals/<int:payout_id>")
@document("One of your withdrawals", roles=("publisher",), tags=("money",),
          responses={200: ("The withdrawal.", PAYOUT),
                     404: ("Not yours, or no such withdrawal.", ref("Error"))})
@requires_role("publisher")
def get_withdrawal(payout_id: int):
    return jsonify(payout_json(withdrawals.payout_for_user(payout_id, api_user())))
