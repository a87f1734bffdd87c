"""Whole-ledger invariant checks, shared by `flask ledger check`, the operator's ledger page and
the nightly job (which notifies every operator of a violation).

Each check is one SQL query over the whole ledger that returns the rows breaking it, so the
report names every offending transaction or account rather than only saying "something is off".
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, cast, func, literal, or_, select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.notifications.services import notify
from payouts.dispute_models import DepositDispute, DisputeFunds
from payouts.models import (
    MAY_GO_NEGATIVE,
    AccountKind,
    Deposit,
    DepositStatus,
    EscrowRefund,
    LedgerAccount,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Posting,
    RefundStatus,
)

IN_FLIGHT = (PayoutStatus.REQUESTED, PayoutStatus.SUBMITTING, PayoutStatus.SUBMITTED)


@dataclass
class CheckResult:
    name: str
    description: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class LedgerReport:
    checks: list[CheckResult]
    transactions: int
    postings: int
    accounts: int

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _transactions_balance() -> list[str]:
    rows = db.session.execute(
        select(Posting.transaction_id, Posting.currency, func.sum(Posting.amount))
        .group_by(Posting.transaction_id, Posting.currency)
        .having(func.sum(Posting.amount) != 0).order_by(Posting.transaction_id))
    return [f"transaction {t}: {c} postings sum to {s}, not 0" for t, c, s in rows]


def _transactions_have_two_postings() -> list[str]:
    rows = db.session.execute(
        select(LedgerTransaction.id, func.count(Posting.id))
        .outerjoin(Posting, Posting.transaction_id == LedgerTransaction.id)
        .group_by(LedgerTransaction.id).having(func.count(Posting.id) < 2)
        .order_by(LedgerTransaction.id))
    return [f"transaction {t}: {n} posting(s), at least 2 needed" for t, n in rows]


def _currencies_balance() -> list[str]:
    rows = db.session.execute(
        select(Posting.currency, func.sum(Posting.amount)).group_by(Posting.currency)
        .having(func.sum(Posting.amount) != 0))
    return [f"{c}: all postings sum to {s}, not 0" for c, s in rows]


def _posting_sums():
    return (select(Posting.account_id, func.sum(Posting.amount).label("total"))
            .group_by(Posting.account_id).subquery())


def _cached_balances_match() -> list[str]:
    sums = _posting_sums()
    total = func.coalesce(sums.c.total, 0)
    rows = db.session.execute(
        select(LedgerAccount, total).outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.balance != total).order_by(LedgerAccount.id))
    return [f"account {a.id} ({a.kind}:{a.owner_id}:{a.currency}): cached balance {a.balance}, "
            f"postings sum to {t}" for a, t in rows]


def _no_forbidden_negative() -> list[str]:
    sums = _posting_sums()
    rows = db.session.execute(
        select(LedgerAccount, func.coalesce(sums.c.total, 0))
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(LedgerAccount.kind.not_in([k.value for k in MAY_GO_NEGATIVE]),
               or_(LedgerAccount.balance < 0, func.coalesce(sums.c.total, 0) < 0))
        .order_by(LedgerAccount.id))
    return [f"account {a.id} ({a.kind}:{a.owner_id}:{a.currency}) is negative: "
            f"cached {a.balance}, postings {t}" for a, t in rows]


def _reversals_mirror_originals() -> list[str]:
    reversal = LedgerTransaction
    rows = db.session.execute(
        select(reversal.id, Posting.account_id, func.sum(Posting.amount))
        .join(Posting, or_(Posting.transaction_id == reversal.id,
                           Posting.transaction_id == reversal.reverses_id))
        .where(reversal.reverses_id.is_not(None))
        .group_by(reversal.id, Posting.account_id).having(func.sum(Posting.amount) != 0)
        .order_by(reversal.id))
    problems = [f"reversal {r}: account {a} nets {s} with its original, not 0" for r, a, s in rows]
    original = db.aliased(LedgerTransaction)
    chained = db.session.execute(
        select(reversal.id, original.id).join(original, and_(
            original.id == reversal.reverses_id, original.reverses_id.is_not(None))))
    problems += [f"reversal {r} reverses {o}, itself a reversal" for r, o in chained]
    return problems


def _deposits_match_credits() -> list[str]:
    credit_key = literal("deposit:") + cast(Deposit.id, String) + literal(":credit")
    rows = db.session.execute(
        select(Deposit.id, Deposit.status, LedgerTransaction.id)
        .outerjoin(LedgerTransaction, LedgerTransaction.idempotency_key == credit_key)
        .where(or_(and_(Deposit.status == DepositStatus.SUCCEEDED, LedgerTransaction.id.is_(None)),
                   and_(Deposit.status != DepositStatus.SUCCEEDED,
                        LedgerTransaction.id.is_not(None))))
        .order_by(Deposit.id))
    return [f"deposit {d} is {status} but its credit transaction is "
            f"{'missing' if t is None else t}" for d, status, t in rows]


def _deposits_credit_their_owner() -> list[str]:
    """A deposit's credit reaches its owner's account of its kind, in full, and no one else's."""
    credit_key = literal("deposit:") + cast(Deposit.id, String) + literal(":credit")
    owner_credited = (
        select(Posting.id).join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.transaction_id == LedgerTransaction.id,
               LedgerAccount.kind == Deposit.account_kind,
               LedgerAccount.owner_id == Deposit.owner_id,
               Posting.currency == Deposit.currency, Posting.amount == Deposit.amount)
        .exists())
    others_credited = (
        select(Posting.id).join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(Posting.transaction_id == LedgerTransaction.id, Posting.amount > 0,
               or_(LedgerAccount.kind != Deposit.account_kind,
                   LedgerAccount.owner_id != Deposit.owner_id))
        .exists())
    rows = db.session.execute(
        select(Deposit.id, LedgerTransaction.id)
        .join(LedgerTransaction, LedgerTransaction.idempotency_key == credit_key)
        .where(or_(~owner_credited, others_credited)).order_by(Deposit.id))
    return [f"deposit {d}: credit transaction {t} does not credit exactly its owner's "
            f"account of its kind" for d, t in rows]


def _refunded_amounts_match() -> list[str]:
    refunded = (select(EscrowRefund.deposit_id, func.sum(EscrowRefund.amount).label("total"))
                .where(EscrowRefund.status != RefundStatus.FAILED)
                .group_by(EscrowRefund.deposit_id).subquery())
    total = func.coalesce(refunded.c.total, 0)
    rows = db.session.execute(
        select(Deposit.id, Deposit.refunded_amount, total)
        .outerjoin(refunded, refunded.c.deposit_id == Deposit.id)
        .where(Deposit.refunded_amount != total).order_by(Deposit.id))
    return [f"deposit {d}: refunded_amount {r}, refunds not failed sum to {t}"
            for d, r, t in rows]


def _payout_key(suffix: str):
    return literal("payout:") + cast(Payout.id, String) + literal(f":{suffix}")


def _payouts_match_ledger() -> list[str]:
    """Every payout reserved its money; paid and failed ones settled it, the right way, once."""
    reserve, settle = db.aliased(LedgerTransaction), db.aliased(LedgerTransaction)
    settled_as = {PayoutStatus.PAID: "payout_paid", PayoutStatus.FAILED: "payout_failed"}
    wrong = [and_(Payout.status == status, or_(settle.id.is_(None), settle.reason != reason))
             for status, reason in settled_as.items()]
    rows = db.session.execute(
        select(Payout.id, Payout.status, reserve.id, settle.reason)
        .outerjoin(reserve, reserve.idempotency_key == _payout_key("reserve"))
        .outerjoin(settle, settle.idempotency_key == _payout_key("settle"))
        .where(or_(reserve.id.is_(None), *wrong,
                   and_(Payout.status.in_(IN_FLIGHT), settle.id.is_not(None))))
        .order_by(Payout.id))
    return [f"payout {p} is {status}: reserve {r or 'missing'}, settlement {s or 'none'}"
            for p, status, r, s in rows]


def _payout_accounts_match() -> list[str]:
    """In flight = the payouts not settled yet; paid out = the paid ones, less what the gateway
    took back of them, per publisher."""
    problems = []
    for kind, statuses in ((AccountKind.PAYOUT_IN_FLIGHT, IN_FLIGHT),
                           (AccountKind.PUBLISHER_PAID, (PayoutStatus.PAID,))):
        sums = (select(Payout.publisher_id, Payout.currency,
                       func.sum(Payout.amount - Payout.reversed_amount).label("total"))
                .where(Payout.status.in_(statuses))
                .group_by(Payout.publisher_id, Payout.currency).subquery())
        total = func.coalesce(sums.c.total, 0)
        rows = db.session.execute(
            select(LedgerAccount, total).outerjoin(sums, and_(
                sums.c.publisher_id == LedgerAccount.owner_id,
                sums.c.currency == LedgerAccount.currency))
            .where(LedgerAccount.kind == kind, LedgerAccount.balance != total)
            .order_by(LedgerAccount.id))
        problems += [f"account {a.id} ({a.kind}:{a.owner_id}:{a.currency}): balance "
                     f"{a.balance}, its payouts sum to {t}" for a, t in rows]
    return problems


def _dispute_key(suffix: str):
    return literal("dispute:") + cast(DepositDispute.id, String) + literal(f":{suffix}")


def _legs(transaction_id, *where):
    """The sum of a transaction's postings on the accounts `where` selects (a scalar subquery
    correlated with the dispute row)."""
    return (select(func.coalesce(func.sum(Posting.amount), 0))
            .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
            .where(Posting.transaction_id == transaction_id, *where).scalar_subquery())


def _disputes_match_ledger() -> list[str]:
    """A dispute's deposit is a credited one of its owner, kind and currency, for at least its
    amount; its withdrawal is posted exactly when its funds left (the disputed account gets the
    amount, the owner's balance gives what the row says it took, revenue fronts the
    shortfall), its settlement exactly when it was won or lost, and its repayments add up."""
    withdrawn, settle = db.aliased(LedgerTransaction), db.aliased(LedgerTransaction)
    F, D = DisputeFunds, DepositDispute
    own = (LedgerAccount.owner_id == D.owner_id,)
    revenue = LedgerAccount.kind == AccountKind.NETWORK_REVENUE
    repaid = (select(func.coalesce(func.sum(Posting.amount), 0))
              .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
              .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
              .where(LedgerTransaction.reason == "dispute_repaid",  # indexed: few rows
                     LedgerTransaction.idempotency_key.like(_dispute_key("repaid:%")), revenue)
              .scalar_subquery())
    rows = db.session.execute(
        select(D, Deposit, withdrawn.id, settle.reason,
               _legs(withdrawn.id, LedgerAccount.kind == AccountKind.DISPUTED, *own),
               _legs(withdrawn.id, LedgerAccount.kind == D.account_kind, *own),
               _legs(withdrawn.id, revenue), repaid)
        .join(Deposit, Deposit.id == D.deposit_id)
        .outerjoin(withdrawn, withdrawn.idempotency_key == _dispute_key("withdrawn"))
        .outerjoin(settle, settle.idempotency_key == _dispute_key("settle"))
        .order_by(D.id))
    settled_as = {F.REINSTATED: "dispute_won", F.LOST: "dispute_lost"}
    problems = []
    for d, deposit, withdrawal, settlement, held, given, fronted, repaid_total in rows:
        name = f"dispute {d.id} ({d.funds})"
        if (deposit.status != DepositStatus.SUCCEEDED or deposit.owner_id != d.owner_id
                or deposit.account_kind != d.account_kind or deposit.currency != d.currency
                or d.amount > deposit.amount):
            problems.append(f"{name}: does not match its credited deposit {deposit.id}")
        if (withdrawal is None) != (d.funds == F.NONE):
            problems.append(f"{name}: withdrawal transaction {withdrawal or 'missing'}")
        elif withdrawal is not None and (held, given, fronted) != (
                d.amount, -d.taken_amount, -d.shortfall_amount):
            problems.append(f"{name}: withdrawal {withdrawal} moves {held} in dispute, "
                            f"{given} from the balance, {fronted} from revenue; the row says "
                            f"{d.amount}, {-d.taken_amount}, {-d.shortfall_amount}")
        if settlement != settled_as.get(F(d.funds)):
            problems.append(f"{name}: settlement {settlement or 'missing'}")
        if repaid_total != d.recovered_amount:
            problems.append(f"{name}: repayments sum to {repaid_total}, the row says "
                            f"{d.recovered_amount}")
    return problems


def _disputed_accounts_match() -> list[str]:
    """Money in dispute = the disputes whose money was taken and not decided, per owner."""
    sums = (select(DepositDispute.owner_id, DepositDispute.currency,
                   func.sum(DepositDispute.amount).label("total"))
            .where(DepositDispute.funds == DisputeFunds.WITHDRAWN)
            .group_by(DepositDispute.owner_id, DepositDispute.currency).subquery())
    total = func.coalesce(sums.c.total, 0)
    rows = db.session.execute(
        select(LedgerAccount, total).outerjoin(sums, and_(
            sums.c.owner_id == LedgerAccount.owner_id, sums.c.currency == LedgerAccount.currency))
        .where(LedgerAccount.kind == AccountKind.DISPUTED, LedgerAccount.balance != total)
        .order_by(LedgerAccount.id))
    return [f"account {a.id} ({a.kind}:{a.owner_id}:{a.currency}): balance {a.balance}, its "
            f"open disputes sum to {t}" for a, t in rows]


CHECKS = (
    ("transactions_balance", _l("every transaction sums to zero per currency"),
     _transactions_balance),
    ("two_postings", _l("every transaction has at least two postings"),
     _transactions_have_two_postings),
    ("currencies_balance", _l("all postings sum to zero per currency"), _currencies_balance),
    ("no_forbidden_negative", _l("no account but clearing and revenue is negative"),
     _no_forbidden_negative),
    ("cached_balances", _l("cached balances equal the sum of their postings"),
     _cached_balances_match),
    ("reversals", _l("reversals mirror their originals, once, never a reversal of a reversal"),
     _reversals_mirror_originals),
    ("deposits_credited", _l("a deposit is succeeded exactly when its credit is posted"),
     _deposits_match_credits),
    ("deposits_reach_owner", _l("a deposit credits its owner's escrow or available balance, in "
                                "full, and nobody else"), _deposits_credit_their_owner),
    ("refunds", _l("each deposit's refunded amount matches its refunds"), _refunded_amounts_match),
    ("payouts_booked", _l("every payout reserved its money and settled it once, as its status "
                          "says"), _payouts_match_ledger),
    ("payout_accounts", _l("money in flight and paid out equals the payouts in those states "
                           "(less what was reversed)"),
     _payout_accounts_match),
    ("disputes_booked", _l("every chargeback matches its credited deposit, and its withdrawal, "
                           "outcome and repayments are posted once, as its row says"),
     _disputes_match_ledger),
    ("disputed_accounts", _l("money in dispute equals the chargebacks not decided yet"),
     _disputed_accounts_match),
)


def check_ledger() -> LedgerReport:
    """Run every invariant over the whole ledger."""
    checks = [CheckResult(name, description, run()) for name, description, run in CHECKS]
    return LedgerReport(checks, _count(LedgerTransaction.id), _count(Posting.id),
                        _count(LedgerAccount.id))


def _count(column) -> int:
    return db.session.scalar(select(func.count(column))) or 0


def check_and_alert(report: LedgerReport) -> dict:
    """After the nightly check: on any violation, notify every operator (once per day)."""
    failed = [check.name for check in report.checks if not check.ok]
    if failed:
        day = utcnow().date().isoformat()
        for admin_id in db.session.scalars(select(User.id).where(User.is_admin.is_(True))):
            notify(admin_id, "ledger_check_failed", f"ledger_check:{day}", day=day,
                   failed=len(failed), checks=", ".join(failed))
    return {"ok": report.ok, "failed": failed, "transactions": report.transactions}
