"""The referral exchange's money, as ledger transactions (the exchange's rules are in
publishers/exchange.py). One EXCHANGE_ESCROW account per lot sale holds the buyer's money
during the guarantee period:

    purchase:  buyer available -price -> exchange escrow (sale) +price       exchange:<sale>:pay
    release:   exchange escrow -price -> seller available +(price - cut),
               network revenue +cut                                        exchange:<sale>:settle
    refund:    exchange escrow -price -> buyer available +price              exchange:<sale>:settle
    and each commission the buyer earned through the referral since the purchase is reversed:
               buyer available -kept -> network revenue +kept          commission:<id>:reversal

Release and refund share one key: a sale is settled once, either way. The exchange's cut is
floored (the seller keeps the remainder unit).
"""

from sqlalchemy import select

from cpa_network.extensions import db
from payouts import dispute_debts, ledger
from payouts.commission_models import ReferralCommission
from payouts.models import AccountKind, LedgerTransaction

K = AccountKind
BP = 10_000


def exchange_cut(price: int, commission_bp: int) -> int:
    return price * commission_bp // BP


def _refs(sale_id: int, lot_id: int, buyer_id: int, seller_id: int) -> dict:
    return {"lot_sale": sale_id, "lot": lot_id, "buyer": buyer_id, "seller": seller_id}


def pay_for_lot(sale_id: int, lot_id: int, buyer_id: int, seller_id: int, currency: str,
                price: int) -> LedgerTransaction:
    """The buyer's available money into the sale's escrow; `InsufficientFunds` if short.
    What the buyer owes for a charged-back top-up is repaid first, as before a withdrawal: a
    debt comes before spending (its lock before any account's, payouts/dispute_debts.py)."""
    dispute_debts.settle_debts(buyer_id, K.PUBLISHER_AVAILABLE, currency)
    legs = ledger.transfer(ledger.account(K.PUBLISHER_AVAILABLE, buyer_id, currency),
                           ledger.account(K.EXCHANGE_ESCROW, sale_id, currency), price)
    return ledger.post_transaction(f"exchange:{sale_id}:pay", legs, "lot_purchase",
                                   _refs(sale_id, lot_id, buyer_id, seller_id))


def release_sale(sale_id: int, lot_id: int, buyer_id: int, seller_id: int, currency: str,
                 price: int, commission_bp: int) -> LedgerTransaction:
    """The guarantee period is over: the seller gets the price less the exchange's cut."""
    cut = exchange_cut(price, commission_bp)
    escrow = ledger.account(K.EXCHANGE_ESCROW, sale_id, currency)
    legs = ledger.transfer(escrow, ledger.account(K.PUBLISHER_AVAILABLE, seller_id, currency),
                           price - cut)
    if cut:
        legs += ledger.transfer(escrow, ledger.network_account(K.NETWORK_REVENUE, currency), cut)
    return ledger.post_transaction(f"exchange:{sale_id}:settle", legs, "lot_release",
                                   _refs(sale_id, lot_id, buyer_id, seller_id))


def refund_sale(sale_id: int, lot_id: int, buyer_id: int, seller_id: int, currency: str,
                price: int) -> LedgerTransaction:
    """A dispute upheld: the price goes back to the buyer."""
    legs = ledger.transfer(ledger.account(K.EXCHANGE_ESCROW, sale_id, currency),
                           ledger.account(K.PUBLISHER_AVAILABLE, buyer_id, currency), price)
    return ledger.post_transaction(f"exchange:{sale_id}:settle", legs, "lot_refund",
                                   _refs(sale_id, lot_id, buyer_id, seller_id))


def reverse_commission(row: ReferralCommission, sale_id: int) -> LedgerTransaction:
    """Take back one commission an upline earned (what they kept, not the referral's refback):
    upline available -> network revenue, linked to the approval it was paid in. The approval
    itself stays: its payout and fee were right; only this upline's share is undone."""
    approval = db.session.scalar(select(LedgerTransaction.id).where(
        LedgerTransaction.idempotency_key == f"conversion:{row.conversion_id}:settle"))
    legs = ledger.transfer(ledger.account(K.PUBLISHER_AVAILABLE, row.upline_id, row.currency),
                           ledger.network_account(K.NETWORK_REVENUE, row.currency), row.kept)
    txn = ledger.post_transaction(
        f"commission:{row.id}:reversal", legs, "commission_reversal",
        {"commission": row.id, "conversion": row.conversion_id, "approval": approval,
         "lot_sale": sale_id, "upline": row.upline_id})
    row.reversed_at = txn.created_at
    db.session.flush()
    return txn
