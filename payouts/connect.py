"""Publishers' payout accounts: Stripe Connect Express onboarding, its state, payout settings.

The connected account's id and its `payouts_enabled` state are stored on `payout_accounts` and
refreshed from Stripe's `account.updated` webhook (and when the publisher comes back from
onboarding, since the webhook may arrive later). The sandbox gateway "connects" at once.
"""

from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.errors import DomainError, Forbidden, ValidationFailed
from cpa_network.extensions import db
from payouts.gateway import ConnectedAccount, PaymentGateway, get_gateway
from payouts.models import PayoutAccount


class PayoutAccountMissing(DomainError):
    code = "payout_account_missing"
    http_status = 409
    default_message = _l("Connect a payout account first, in Payout settings.")


class PayoutAccountIncomplete(PayoutAccountMissing):
    code = "payout_account_incomplete"
    default_message = _l("Your payout account cannot receive payouts yet: finish the "
                         "onboarding at Stripe, in Payout settings.")


class ThresholdTooLow(ValidationFailed):
    code = "threshold_too_low"


def settings_for(user_id: int, lock: bool = False) -> PayoutAccount:
    """The publisher's payout settings row (a new, unsaved one if they never had any)."""
    query = select(PayoutAccount).where(PayoutAccount.user_id == user_id)
    found = db.session.scalar(query.with_for_update() if lock else query)
    if found is None:
        found = PayoutAccount(user_id=user_id, gateway="", payouts_enabled=False,
                              details_submitted=False, automatic=False)
    return found


def is_usable(account: PayoutAccount | None, gateway: PaymentGateway | None = None) -> bool:
    """Connected through the gateway now in use, and able to receive payouts."""
    gateway = gateway or get_gateway()
    return (account is not None and account.external_id is not None
            and account.gateway == gateway.name and account.payouts_enabled)


def usable_account(user_id: int) -> PayoutAccount:
    """The account payouts go to; `PayoutAccountMissing` or `...Incomplete` if there is none."""
    account = db.session.get(PayoutAccount, user_id)
    if account is None or account.external_id is None or account.gateway != get_gateway().name:
        raise PayoutAccountMissing()
    if not account.payouts_enabled:
        raise PayoutAccountIncomplete()
    return account


def start_onboarding(user: User, refresh_url: str, return_url: str,
                     gateway: PaymentGateway | None = None) -> str | None:
    """Create the connected account if needed; the onboarding URL (None: nothing to fill in)."""
    if not user.is_publisher or user.is_blocked:
        raise Forbidden(_l("Only publishers in good standing can connect a payout account."))
    gateway = gateway or get_gateway()
    account = settings_for(user.id, lock=True)
    if account.external_id is None or account.gateway != gateway.name:
        _apply(account, gateway.create_connected_account(user.id, user.email))
        account.gateway = gateway.name
        db.session.add(account)
        db.session.flush()
    return gateway.onboarding_link(account.external_id, refresh_url, return_url)


def refresh_account(user_id: int, gateway: PaymentGateway | None = None) -> PayoutAccount | None:
    """Ask the gateway for the account's state now (the publisher is back from onboarding)."""
    gateway = gateway or get_gateway()
    account = settings_for(user_id, lock=True)
    if account.external_id is None or account.gateway != gateway.name:
        return None
    _apply(account, gateway.retrieve_account(account.external_id))
    return account


def on_account_updated(stripe_account: dict, event_id: str) -> str:
    """Stripe's `account.updated`: store whether the connected account can receive payouts."""
    account = db.session.scalar(select(PayoutAccount).where(
        PayoutAccount.external_id == stripe_account.get("id")).with_for_update())
    if account is None:
        return "unknown_account"
    _apply(account, ConnectedAccount(stripe_account["id"],
                                     bool(stripe_account.get("payouts_enabled")),
                                     bool(stripe_account.get("details_submitted"))))
    return "payouts_enabled" if account.payouts_enabled else "payouts_disabled"


def _apply(account: PayoutAccount, state: ConnectedAccount) -> None:
    account.external_id = state.id
    account.payouts_enabled = state.payouts_enabled
    account.details_submitted = state.details_submitted
    account.refreshed_at = utcnow()


def save_settings(user_id: int, minimum_major: int | None, automatic: bool) -> PayoutAccount:
    """The publisher's own minimum (None: the network's) and the weekly automatic payouts."""
    network = Decimal(current_app.config["PAYOUT_MINIMUM"])
    if minimum_major is not None and minimum_major < network:
        raise ThresholdTooLow(fields={"minimum_major": [_l(
            "The network's minimum is %(minimum)s; leave the field empty to use it.",
            minimum=network)]})
    account = settings_for(user_id, lock=True)
    account.minimum_major, account.automatic = minimum_major, automatic
    db.session.add(account)
    db.session.flush()
    return account
