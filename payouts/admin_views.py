"""The operator's ledger page: every account, the transaction log with filters, invariants."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from redis.exceptions import RedisError
from sqlalchemy import select

from cpa_network.accounts.forms import ConfirmForm
from cpa_network.accounts.sessions import role_required
from cpa_network.extensions import db
from cpa_network.jobs import get_queue
from payouts import ledger_status, tasks
from payouts.models import AccountKind, LedgerAccount, LedgerTransaction, Posting
from payouts.statements import REASON_LABELS

admin_bp = Blueprint("ledger_admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50


def _arg(name: str) -> str:
    return request.args.get(name, "").strip()


def _owner_id(owner: str) -> int | None:
    """The owner filter as an id ("²" is a digit to str.isdigit, not to int)."""
    return int(owner) if owner.isascii() and owner.isdigit() and len(owner) < 19 else None


def _accounts_query(kind: str, currency: str, owner: str):
    query = select(LedgerAccount).order_by(LedgerAccount.kind, LedgerAccount.owner_id,
                                           LedgerAccount.currency)
    if kind in AccountKind.__members__.values():
        query = query.where(LedgerAccount.kind == kind)
    if currency:
        query = query.where(LedgerAccount.currency == currency.upper())
    if (owner_id := _owner_id(owner)) is not None:
        query = query.where(LedgerAccount.owner_id == owner_id)
    return query


def _transactions_query(reason: str, key: str, owner: str, currency: str):
    query = select(LedgerTransaction).order_by(LedgerTransaction.id.desc())
    if reason:
        query = query.where(LedgerTransaction.reason == reason)
    if key:
        query = query.where(LedgerTransaction.idempotency_key.contains(key, autoescape=True))
    owner_id = _owner_id(owner)
    if owner_id is not None or currency:
        touching = select(Posting.transaction_id).join(
            LedgerAccount, Posting.account_id == LedgerAccount.id)
        if owner_id is not None:
            touching = touching.where(LedgerAccount.owner_id == owner_id)
        if currency:
            touching = touching.where(LedgerAccount.currency == currency.upper())
        query = query.where(LedgerTransaction.id.in_(touching))
    return query


@admin_bp.route("/ledger")
@role_required("admin")
def ledger():
    filters = {name: _arg(name) for name in ("kind", "currency", "owner", "reason", "key")}
    accounts = db.paginate(_accounts_query(filters["kind"], filters["currency"], filters["owner"]),
                           page=request.args.get("accounts_page", 1, type=int),
                           per_page=PAGE_SIZE, error_out=False)
    transactions = db.paginate(
        _transactions_query(filters["reason"], filters["key"], filters["owner"],
                            filters["currency"]),
        per_page=PAGE_SIZE, error_out=False)
    checked = ledger_status.current()
    return render_template("admin/ledger.html", accounts=accounts, transactions=transactions,
                           report=checked.report, checked_at=checked.checked_at,
                           check_form=ConfirmForm(), filters=filters, kinds=list(AccountKind),
                           reasons=sorted(REASON_LABELS))


@admin_bp.route("/ledger/check", methods=["POST"])
@role_required("admin")
def check_now():
    """Run the whole-ledger check again, in the background (it reads every posting)."""
    if ConfirmForm().validate_on_submit():
        try:
            get_queue("default").enqueue(tasks.check_ledger_nightly)
            flash(_("The check is running in the background: reload this page in a moment "
                    "to see its result."), "info")
        except RedisError:
            flash(_("The job queue is unreachable; the check did not start. Try again "
                    "shortly."), "danger")
    return redirect(url_for("ledger_admin.ledger"), 303)


@admin_bp.route("/ledger/transactions/<int:transaction_id>")
@role_required("admin")
def transaction(transaction_id: int):
    txn = db.session.get(LedgerTransaction, transaction_id)
    if txn is None:
        abort(404)
    return render_template("payouts/transaction.html", txn=txn, operator=True)
