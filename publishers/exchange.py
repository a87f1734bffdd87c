"""The referral exchange's rules, by step: list a referral or withdraw a lot
(exchange_listing), buy one (exchange_buying), dispute, resolve and release (exchange_settlement),
on the settings, errors, row lock and guarded moves they share (exchange_core). Money moves
through payouts.exchange_escrow; each step also writes a history row for the seller and one for
the buyer.

States: lot listed -> sold | withdrawn; sale in_guarantee -> released | disputed;
disputed -> released | refunded. Every move is a conditional UPDATE on the current state, so
of two racing requests (two buyers, a dispute and the release job) exactly one wins.

This module only names the steps for callers outside the exchange's own modules that import
`publishers.exchange`: the block listener registered in cpa_network/app.py
(`withdraw_lots_of_blocked`), the release job in publishers/tasks.py, and the tests. New code
imports from the step's own module.
"""

from publishers.exchange_buying import (
    AlreadyBought,
    BuyingYourself,
    OwnLot,
    ReferralCycle,
    SellerBlocked,
    TopUpFirst,
    buy_lot,
)
from publishers.exchange_core import (
    ExchangeError,
    LotNotAvailable,
    ReferralBlocked,
    open_lot_of,
    settings,
)
from publishers.exchange_listing import (
    ACTIVITY_DAYS,
    LOGIN_DAYS,
    AlreadyListed,
    CurrencyUnsupported,
    NotYourReferral,
    OwnedTooShort,
    PriceTooLow,
    PurchaseUnsettled,
    ReferralIdle,
    ReferralNotLoggedIn,
    list_referral,
    listing_problems,
    unsettled_sale_of,
    withdraw_lot,
    withdraw_lots_of_blocked,
)
from publishers.exchange_settlement import (
    NotDisputable,
    NotResolvable,
    ReasonRequired,
    ReferralNotReturnable,
    due_sale_ids,
    open_dispute,
    release_if_due,
    resolve_dispute,
    sale_for,
)

__all__ = [
    "ACTIVITY_DAYS", "LOGIN_DAYS", "AlreadyBought", "AlreadyListed", "BuyingYourself",
    "CurrencyUnsupported", "ExchangeError", "LotNotAvailable", "NotDisputable", "NotResolvable",
    "NotYourReferral", "OwnLot", "OwnedTooShort", "PriceTooLow", "PurchaseUnsettled",
    "ReasonRequired", "ReferralBlocked", "ReferralCycle", "ReferralIdle", "ReferralNotLoggedIn",
    "ReferralNotReturnable", "SellerBlocked", "TopUpFirst", "buy_lot", "due_sale_ids",
    "list_referral", "listing_problems", "open_dispute", "open_lot_of", "release_if_due",
    "resolve_dispute", "sale_for", "settings", "unsettled_sale_of", "withdraw_lot",
    "withdraw_lots_of_blocked",
]
