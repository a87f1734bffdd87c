"""The escrow rule: an offer goes live only if its advertiser's escrow backs one conversion of
its highest goal, the network's fee included. Percent goals are priced at the offer's
`reference_amount` (a typical sale the advertiser states), the same figure the catalog uses to
compare and sort payouts. The fee is NETWORK_FEE_BP basis points of the payout, on top,
rounded down to a whole minor unit. What the advertiser owes for a chargeback is not there to
back anything (payouts/dispute_debts.py)."""

from flask import current_app
from flask_babel import lazy_gettext as _l

from cpa_network.errors import DomainError
from payouts.currency import format_money
from payouts.dispute_debts import owed_total
from payouts.escrow import escrow_balance
from payouts.models import AccountKind

BASIS_POINTS = 10_000


class InsufficientEscrow(DomainError):
    code = "insufficient_escrow"
    http_status = 409
    default_message = _l("The advertiser's escrow does not cover one conversion of this offer.")


def network_fee(payout: int) -> int:
    """The network's fee on top of a payout, in minor units (rounded down)."""
    return payout * current_app.config["NETWORK_FEE_BP"] // BASIS_POINTS


def required_escrow(offer) -> int:
    """What one conversion of the highest goal costs the advertiser, fee included."""
    return offer.top_payout + network_fee(offer.top_payout)


def check_offer_is_funded(offer) -> None:
    """Refuse unless the escrow, less what the advertiser owes for a chargeback (repaid from it
    first), backs one conversion of the highest goal."""
    needed = required_escrow(offer)
    available = escrow_balance(offer.advertiser_id, offer.currency) - owed_total(
        offer.advertiser_id, AccountKind.ADVERTISER_ESCROW, offer.currency)
    if available < needed:
        raise InsufficientEscrow(_l(
            "The escrow holds %(available)s; one conversion of the highest goal needs "
            "%(needed)s with the network's fee. Top up the escrow first.",
            available=format_money(max(available, 0), offer.currency),
            needed=format_money(needed, offer.currency)))
