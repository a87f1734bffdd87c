"""Small helpers for money tests: fund an escrow straight through the ledger, read balances."""

from cpa_network.extensions import db
from payouts import ledger
from payouts.models import AccountKind


def fund_escrow(advertiser_id: int, amount: int, currency: str = "USD", key: str | None = None):
    """Money in from outside: gateway clearing -> the advertiser's escrow, committed."""
    txn = ledger.post_transaction(
        key or f"test-fund:{advertiser_id}:{currency}:{amount}",
        ledger.transfer(ledger.network_account(AccountKind.GATEWAY_CLEARING, currency),
                        ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser_id, currency),
                        amount),
        "deposit", {"advertiser": advertiser_id})
    db.session.commit()
    return txn


def balances(owner_id: int, currency: str = "USD") -> dict[str, int]:
    """Every non-zero balance of one owner, by kind."""
    found = {kind.value: ledger.balance(kind, owner_id, currency) for kind in AccountKind}
    return {kind: amount for kind, amount in found.items() if amount}
