"""The payment gateway: one interface, two implementations (Stripe, and a sandbox without keys).

The rest of the code calls `get_gateway()` and never asks which one it got: the sandbox answers
the same calls instantly, so deposits, refunds, Connect onboarding and payout transfers go through
the same service and ledger path. Every Stripe call that creates something carries an idempotency
key derived from our row id, so a retried request or job never creates it twice.

Every Stripe HTTP call times out after STRIPE_TIMEOUT_S (default 20 s), well below the payout
job's timeout, so a hung connection fails the attempt rather than the worker.
"""

from dataclasses import dataclass
from typing import Protocol

import requests
import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from cpa_network.errors import DomainError
from payouts.models import AccountKind, Deposit, EscrowRefund, Payout

STRIPE_NETWORK_RETRIES = 2
DEFAULT_TIMEOUT_S = 20.0


class GatewayError(DomainError):
    """The gateway refused or failed. `retryable`: worth trying again later (5xx, network)."""

    code = "gateway_error"
    http_status = 502
    default_message = _l("The payment provider could not complete the request. Try again later.")

    def __init__(self, message=None, *, retryable: bool = False, gateway_code: str = "", **kw):
        self.retryable, self.gateway_code = retryable, gateway_code
        super().__init__(message, **kw)


class IdempotencyMismatch(GatewayError):
    """The gateway already saw this idempotency key with other parameters: stop and look."""

    code = "idempotency_mismatch"
    http_status = 409


@dataclass(frozen=True)
class CheckoutStart:
    session_id: str
    url: str | None  # where to send the payer; None: the sandbox took the money at once


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str  # succeeded, pending or failed (Stripe's refund statuses; canceled is failed)
    amount: int = 0
    currency: str = ""  # upper case, as we store it

    def matches(self, refund: EscrowRefund) -> bool:
        return (self.amount, self.currency) == (refund.amount, refund.currency)


@dataclass(frozen=True)
class ConnectedAccount:
    id: str
    payouts_enabled: bool
    details_submitted: bool


@dataclass(frozen=True)
class Transfer:
    id: str
    amount: int
    currency: str  # upper case, as we store it
    destination: str
    payout_id: str  # metadata.payout_id

    def matches(self, payout: Payout) -> bool:
        return (self.payout_id, self.amount, self.currency, self.destination) == (
            str(payout.id), payout.amount, payout.currency, payout.destination)


class PaymentGateway(Protocol):
    name: str
    is_sandbox: bool

    def start_deposit(self, deposit: Deposit, success_url: str,
                      cancel_url: str) -> CheckoutStart: ...

    def checkout_status(self, session_id: str) -> str: ...

    def checkout_session(self, session_id: str) -> dict | None: ...

    def refund(self, refund: EscrowRefund, payment_intent_id: str) -> RefundResult: ...

    def find_refund(self, refund: EscrowRefund,
                    payment_intent_id: str) -> RefundResult | None: ...

    def create_connected_account(self, user_id: int, email: str) -> ConnectedAccount: ...

    def retrieve_account(self, account_id: str) -> ConnectedAccount: ...

    def onboarding_link(self, account_id: str, refresh_url: str,
                        return_url: str) -> str | None: ...

    def create_transfer(self, payout: Payout) -> Transfer: ...

    def find_transfer(self, payout: Payout) -> Transfer | None: ...

    def charge_payment_intent(self, charge_id: str) -> str | None: ...

    def payment_intent_metadata(self, payment_intent_id: str) -> dict | None: ...


class SandboxGateway:
    """No keys, no network: every payment succeeds at once. Pages say "Sandbox" when in use."""

    name = "sandbox"
    is_sandbox = True

    def start_deposit(self, deposit, success_url, cancel_url):
        return CheckoutStart(session_id=f"sandbox_cs_{deposit.id}", url=None)

    def checkout_status(self, session_id):
        return "paid"

    def checkout_session(self, session_id):
        return None  # nothing exists outside our database: open_checkout credited it at once

    def refund(self, refund, payment_intent_id):
        return RefundResult(f"sandbox_re_{refund.id}", "succeeded", refund.amount,
                            refund.currency)

    def find_refund(self, refund, payment_intent_id):
        return None  # nothing exists outside our database; refund() is deterministic

    def create_connected_account(self, user_id, email):
        return ConnectedAccount(f"sandbox_acct_{user_id}", True, True)

    def retrieve_account(self, account_id):
        return ConnectedAccount(account_id, True, True)

    def onboarding_link(self, account_id, refresh_url, return_url):
        return None  # nothing to fill in: the sandbox account can receive payouts at once

    def create_transfer(self, payout):
        # Deterministic: a second call for the same payout "creates" the same transfer, and the
        # payout row that stores its id is the sandbox's record of it.
        return Transfer(f"sandbox_tr_{payout.id}", payout.amount, payout.currency,
                        payout.destination, str(payout.id))

    def find_transfer(self, payout):
        return None  # nothing exists outside our database; create_transfer is idempotent

    def charge_payment_intent(self, charge_id):
        return None  # the sandbox makes no charges, so none is ever disputed

    def payment_intent_metadata(self, payment_intent_id):
        return None


class StripeGateway:
    """Stripe Checkout for deposits, Stripe Refunds for withdrawals of unused escrow."""

    name = "stripe"
    is_sandbox = False

    def __init__(self, secret_key: str, api_base: str = "", timeout_s: float = DEFAULT_TIMEOUT_S):
        # The environment's proxy settings are read once here: by default `requests` scans the
        # whole environment on every call, which cost payouts a tenth of their CPU time.
        session = requests.Session()
        session.trust_env = False
        session.proxies = requests.utils.get_environ_proxies(api_base or "https://api.stripe.com")
        self.client = stripe.StripeClient(
            secret_key, max_network_retries=STRIPE_NETWORK_RETRIES,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.RequestsClient(timeout=timeout_s, session=session))

    def start_deposit(self, deposit, success_url, cancel_url):
        escrow = deposit.account_kind == AccountKind.ADVERTISER_ESCROW
        metadata = {"deposit_id": str(deposit.id),
                    "advertiser_id" if escrow else "publisher_id": str(deposit.owner_id)}
        params = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": deposit.currency.lower(), "unit_amount": deposit.amount,
                "product_data": {"name": "Escrow top-up" if escrow else "Balance top-up"}}}],
            "success_url": success_url, "cancel_url": cancel_url,
            "client_reference_id": str(deposit.id),
            "metadata": metadata,
            "payment_intent_data": {"transfer_group": f"deposit_{deposit.id}",
                                    "metadata": metadata},
        }
        session = self._call(self.client.v1.checkout.sessions.create, params,
                             f"deposit-{deposit.id}-checkout")
        return CheckoutStart(session_id=session.id, url=session.url)

    def checkout_status(self, session_id):
        session = self._call(self.client.v1.checkout.sessions.retrieve, session_id)
        return session.payment_status if session.status == "complete" else session.status

    def checkout_session(self, session_id):
        """The session as its webhook event would carry it (a dict; its metadata a mapping)."""
        session = self._call(self.client.v1.checkout.sessions.retrieve, session_id)
        return dict(session)

    def refund(self, refund, payment_intent_id):
        params = {"payment_intent": payment_intent_id, "amount": refund.amount,
                  "metadata": {"refund_id": str(refund.id), "deposit_id": str(refund.deposit_id)}}
        return self._refund(self._call(self.client.v1.refunds.create, params,
                                       refund.idempotency_key))

    def find_refund(self, refund, payment_intent_id):
        """The payment intent's refund whose metadata names this refund row, if an earlier
        attempt made one: asked before every create, so an idempotency key Stripe has
        forgotten (after 24 hours) cannot make a second refund."""
        if not payment_intent_id:
            return None
        params = {"payment_intent": payment_intent_id, "limit": 100}
        while True:
            page = self._call(self.client.v1.refunds.list, params)
            for found in page.data:
                if (found.metadata or {}).get("refund_id") == str(refund.id):
                    return self._refund(found)
            if not page.has_more or not page.data:
                return None
            params = {**params, "starting_after": page.data[-1].id}

    def create_connected_account(self, user_id, email):
        params = {"type": "express", "email": email,
                  "capabilities": {"transfers": {"requested": True}},
                  "metadata": {"user_id": str(user_id)}}
        account = self._call(self.client.v1.accounts.create, params, f"connect-account-{user_id}")
        return self._account(account)

    def retrieve_account(self, account_id):
        return self._account(self._call(self.client.v1.accounts.retrieve, account_id))

    def onboarding_link(self, account_id, refresh_url, return_url):
        link = self._call(self.client.v1.account_links.create, {
            "account": account_id, "refresh_url": refresh_url, "return_url": return_url,
            "type": "account_onboarding"})
        return link.url

    def create_transfer(self, payout):
        params = {"amount": payout.amount, "currency": payout.currency.lower(),
                  "destination": payout.destination, "transfer_group": payout.transfer_group,
                  "description": f"cpa-network payout {payout.id}",
                  "metadata": {"payout_id": str(payout.id),
                               "publisher_id": str(payout.publisher_id)}}
        # No SDK retries: the payout job retries with backoff and looks for the transfer first.
        found = self._call(self.client.v1.transfers.create, params, payout.idempotency_key,
                           retries=0)
        return self._transfer(found)

    def find_transfer(self, payout):
        page = self._call(self.client.v1.transfers.list,
                          {"transfer_group": payout.transfer_group, "limit": 100}, retries=0)
        mine = [t for t in page.data if (t.metadata or {}).get("payout_id") == str(payout.id)]
        return self._transfer(mine[0]) if mine else None

    def charge_payment_intent(self, charge_id):
        """The payment intent of a charge (a dispute from an old API version names only it);
        None if Stripe has no such charge."""
        charge = self._retrieved(self.client.v1.charges.retrieve, charge_id)
        intent = charge.payment_intent if charge is not None else None
        return getattr(intent, "id", intent)

    def payment_intent_metadata(self, payment_intent_id):
        """The metadata we gave a payment intent (deposit_id...); None if Stripe has no such
        intent."""
        intent = self._retrieved(self.client.v1.payment_intents.retrieve, payment_intent_id)
        return dict(intent.metadata or {}) if intent is not None else None

    def _retrieved(self, retrieve, object_id):
        """Stripe's object, or None if it refuses for good (no such object); an outage
        raises, so the caller's event is retried."""
        try:
            return self._call(retrieve, object_id)
        except GatewayError as error:
            if error.retryable:
                raise
            return None

    @staticmethod
    def _account(account) -> ConnectedAccount:
        return ConnectedAccount(account.id, bool(account.payouts_enabled),
                                bool(account.details_submitted))

    @staticmethod
    def _refund(refund) -> RefundResult:
        status = "failed" if refund.status == "canceled" else refund.status
        return RefundResult(refund.id, status, refund.amount, (refund.currency or "").upper())

    @staticmethod
    def _transfer(transfer) -> Transfer:
        return Transfer(transfer.id, transfer.amount, transfer.currency.upper(),
                        transfer.destination, (transfer.metadata or {}).get("payout_id", ""))

    @staticmethod
    def _call(method, argument, idempotency_key: str | None = None, retries: int | None = None):
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        if retries is not None:
            options["max_network_retries"] = retries
        try:
            return method(argument, options=options)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise GatewayError(retryable=True, gateway_code=type(error).__name__) from error
        except stripe.IdempotencyError as error:
            current_app.logger.error("stripe idempotency key %s reused: %s", idempotency_key,
                                     error.user_message)
            raise IdempotencyMismatch(gateway_code="idempotency_error") from error
        except stripe.StripeError as error:
            status = error.http_status or 0
            code = error.code or type(error).__name__
            current_app.logger.warning("stripe refused: %s %s %s", status, code, error.user_message)
            # 401/403: our keys or permissions are wrong, not the payment: retry once fixed.
            raise GatewayError(retryable=status >= 500 or status in (401, 403, 409),
                               gateway_code=code) from error


def describe(error: GatewayError) -> str:
    """What the gateway said, for an operator: its code and message."""
    cause = error.__cause__
    detail = getattr(cause, "user_message", None) or (str(cause) if cause else str(error.message))
    return f"{error.gateway_code or error.code}: {detail}"[:300]


def get_gateway() -> PaymentGateway:
    """Stripe when STRIPE_SECRET_KEY is set, else the sandbox; one instance per app."""
    gateway = current_app.extensions.get("cpa_gateway")
    if gateway is None:
        key = current_app.config.get("STRIPE_SECRET_KEY")
        gateway = (StripeGateway(key, current_app.config.get("STRIPE_API_BASE", ""),
                                 current_app.config.get("STRIPE_TIMEOUT_S", DEFAULT_TIMEOUT_S))
                   if key else SandboxGateway())
        current_app.extensions["cpa_gateway"] = gateway
    return gateway


def gateway_named(name: str) -> PaymentGateway:
    """The gateway that took a payment (or connected a payout account), to finish it the same
    way."""
    if name == SandboxGateway.name:
        return SandboxGateway()
    gateway = get_gateway()
    if gateway.name != name:
        # Retryable: the money waits (in flight) until the operator configures it again.
        raise GatewayError(_l("The payment provider of this payment is not configured."),
                           gateway_code="gateway_not_configured", retryable=True)
    return gateway
