"""Balance history on /api/v1: the postings on the key owner's own ledger accounts, one
transaction in detail, an advertiser's withdrawal of unused escrow, a publisher's payout
account. Amounts are integers
in minor units beside `currency`; a posting's sign is what its account's holder gained."""

from flask import jsonify, request
from flask_babel import lazy_gettext as _l

from cpa_network.api import api_user, bp, requires_role
from cpa_network.api.openapi import document, ref, register_schema
from cpa_network.api.pagination import (
    LIST_QUERY,
    date_range,
    invalid,
    json_object,
    keyset_page,
    list_schema,
)
from cpa_network.errors import NotFound
from cpa_network.extensions import db
from payouts import connect, refunds, request_keys, statements
from payouts.api import IDEMPOTENCY_422, IDEMPOTENCY_NOTE, idempotent
from payouts.currency import CURRENCIES
from payouts.deposits import AmountInvalid
from payouts.models import USER_KINDS, EscrowRefund, LedgerTransaction, Posting, RefundStatus

MINOR = {"type": "integer", "description": "Minor units (cents, kopecks), signed."}
CURRENCY = {"enum": list(CURRENCIES)}
TIME = {"type": "string", "format": "date-time"}
KIND = {"enum": sorted(str(k) for k in USER_KINDS),
        "description": "The account: escrow, on hold, available, in flight, paid..."}
POSTING = register_schema("BalanceEntry", {
    "type": "object",
    "required": ["id", "transaction_id", "account", "amount", "currency", "reason", "created_at"],
    "properties": {"id": {"type": "integer"}, "transaction_id": {"type": "integer"},
                   "account": KIND, "amount": MINOR, "currency": CURRENCY,
                   "reason": {"type": "string", "description": "deposit, conversion_hold, "
                              "conversion_approve, payout_requested, ..."},
                   "description": {"type": "string"}, "created_at": TIME}})
TRANSACTION = register_schema("LedgerTransaction", {
    "type": "object", "required": ["id", "reason", "created_at", "postings"],
    "properties": {
        "id": {"type": "integer"}, "reason": {"type": "string"},
        "description": {"type": "string"}, "created_at": TIME,
        "reverses_id": {"type": ["integer", "null"]},
        "refs": {"type": "object", "description": "What caused it: deposit, conversion, "
                 "payout or refund ids."},
        "postings": {"type": "array", "description": "The legs on your own accounts.",
                     "items": {"type": "object", "required": ["account", "amount", "currency"],
                               "properties": {"account": KIND, "amount": MINOR,
                                              "currency": CURRENCY}}}}})
REFUND = register_schema("EscrowRefund", {
    "type": "object", "required": ["id", "deposit_id", "amount", "currency", "status"],
    "properties": {"id": {"type": "integer"}, "deposit_id": {"type": "integer"},
                   "amount": {"type": "integer", "description": "Minor units."},
                   "currency": CURRENCY, "status": {"enum": [s.value for s in RefundStatus]},
                   "created_at": TIME}})
REFUNDS = {"type": "object", "required": ["refunds"],
           "properties": {"refunds": {"type": "array", "items": REFUND}}}
ESCROW_REQUEST = {"type": "object", "required": ["amount", "currency"], "properties": {
    "amount": {"type": "integer", "minimum": 1, "description": "Minor units of unused escrow."},
    "currency": CURRENCY}}
PUBLIC_REFS = ("deposit", "conversion", "payout", "refund")


def posting_json(posting: Posting) -> dict:
    txn = posting.transaction
    return {"id": posting.id, "transaction_id": txn.id, "account": posting.account.kind,
            "amount": posting.amount, "currency": posting.currency, "reason": txn.reason,
            "description": txn.description, "created_at": txn.created_at.isoformat()}


@bp.route("/transactions")
@document("Your balance history", tags=("money",),
          description="Every movement on your own accounts (escrow, holds, available, in "
                      "flight, paid), newest first; `created_from`/`created_to` filter on the "
                      "transaction's time.",
          query=LIST_QUERY,
          responses={200: ("A page of entries.", list_schema("entries", POSTING))})
def list_transactions():
    query = statements.owner_history(api_user().id).join(
        LedgerTransaction, Posting.transaction_id == LedgerTransaction.id)
    rows, cursor = keyset_page(date_range(query, LedgerTransaction.created_at), Posting.id)
    return jsonify(entries=[posting_json(p) for p in rows], next_cursor=cursor)


@bp.route("/transactions/<int:transaction_id>")
@document("One transaction on your accounts", tags=("money",),
          responses={200: ("The transaction with your legs of it.", TRANSACTION)})
def get_transaction(transaction_id: int):
    user = api_user()
    txn = statements.transaction_for_owner(transaction_id, user.id)
    if txn is None:
        raise NotFound()
    return jsonify({
        "id": txn.id, "reason": txn.reason, "description": txn.description,
        "created_at": txn.created_at.isoformat(), "reverses_id": txn.reverses_id,
        "refs": {k: v for k, v in txn.refs.items() if k in PUBLIC_REFS},
        "postings": [{"account": p.account.kind, "amount": p.amount, "currency": p.currency}
                     for p in txn.postings
                     if p.account.owner_id == user.id and p.account.kind in USER_KINDS]})


def refund_json(refund: EscrowRefund) -> dict:
    return {"id": refund.id, "deposit_id": refund.deposit_id, "amount": refund.amount,
            "currency": refund.currency, "status": refund.status,
            "created_at": refund.created_at.isoformat() if refund.created_at else None}


@bp.route("/escrow/withdrawals", methods=["POST"])
@document("Withdraw unused escrow", roles=("advertiser",), tags=("money",),
          request=ESCROW_REQUEST,
          description="Reserves the amount at once and refunds it to the deposits that brought "
                      "it (newest first); money held for pending conversions cannot be taken."
                      "\n\n" + IDEMPOTENCY_NOTE,
          responses={200: ("A replay of an `Idempotency-Key`: the refunds it queued, as they "
                           "are now.", REFUNDS),
                     201: ("The refunds queued.", REFUNDS),
                     409: ("`insufficient_funds` or `nothing_to_refund`.", ref("Error")),
                     422: ("`amount_invalid`, `currency_unsupported`, " + IDEMPOTENCY_422 + ".",
                           ref("Error"))})
@requires_role("advertiser")
def withdraw_escrow():
    user_id = api_user().id
    key = request_keys.api_key(user_id, request.headers.get(request_keys.HEADER))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise AmountInvalid(_l("Send a JSON object with an integer amount in minor units and a "
                               "currency."), fields={"amount": [_l("Required.")]})
    made, first = refunds.withdraw_escrow_once(user_id, body.get("amount"), body.get("currency"),
                                               key)
    db.session.commit()
    return idempotent(jsonify(refunds=[refund_json(r) for r in made]), first)


PAYOUT_ACCOUNT = register_schema("PayoutAccount", {
    "type": "object", "required": ["connected", "payouts_enabled", "automatic"],
    "properties": {
        "connected": {"type": "boolean", "description": "Connected through the gateway in use "
                      "(Stripe Connect, or the sandbox); onboarding is on the Earnings page."},
        "gateway": {"type": "string"}, "payouts_enabled": {"type": "boolean"},
        "details_submitted": {"type": "boolean"},
        "minimum_major": {"type": ["integer", "null"], "description": "Your own minimum payout "
                          "in major units (null: the network's)."},
        "automatic": {"type": "boolean", "description": "Weekly automatic payouts."}}})
PAYOUT_SETTINGS_REQUEST = {"type": "object", "properties": {
    "minimum_major": {"type": ["integer", "null"], "minimum": 0},
    "automatic": {"type": "boolean"}}}


def account_json(account) -> dict:
    return {"connected": connect.is_usable(account), "gateway": account.gateway or "",
            "payouts_enabled": bool(account.payouts_enabled),
            "details_submitted": bool(account.details_submitted),
            "minimum_major": account.minimum_major, "automatic": bool(account.automatic)}


@bp.route("/payout-account")
@document("Your payout account", roles=("publisher",), tags=("money",),
          responses={200: ("Its status and settings.", PAYOUT_ACCOUNT)})
@requires_role("publisher")
def get_payout_account():
    return jsonify(account_json(connect.settings_for(api_user().id)))


@bp.route("/payout-account", methods=["PUT"])
@document("Change your payout settings", roles=("publisher",), tags=("money",),
          request=PAYOUT_SETTINGS_REQUEST,
          responses={200: ("The account.", PAYOUT_ACCOUNT),
                     422: ("`threshold_too_low` or `validation_failed`.", ref("Error"))})
@requires_role("publisher")
def put_payout_account():
    body = json_object()
    account = connect.settings_for(api_user().id)
    minimum = body.get("minimum_major", account.minimum_major)
    automatic = body.get("automatic", bool(account.automatic))
    if minimum is not None and (type(minimum) is not int or not 0 <= minimum < 10**9):
        raise invalid("minimum_major", _l("A whole number of major units, or null."))
    if not isinstance(automatic, bool):
        raise invalid("automatic", _l("true or false."))
    account = connect.save_settings(api_user().id, minimum, automatic)
    db.session.commit()
    return jsonify(account_json(account))
