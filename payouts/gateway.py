"""The payment gateway: one interface, two implementations (Stripe, and a sandbox without keys).

The rest of the code calls `get_gateway()` and never asks which one it got: the sandbox answers
the same calls instantly, so deposits and refunds go through the same service and ledger path.
Every Stripe call that creates something carries an idempotency key derived from our row id, so
a retried request or job never creates it twice.
"""

from dataclasses import dataclass
from typing import Protocol

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from cpa_network.errors import DomainError
from payouts.models import Deposit, EscrowRefund

STRIPE_NETWORK_RETRIES = 2


class GatewayError(DomainError):
    """The gateway refused or failed. `retryable`: worth trying again later (5xx, network)."""

    code = "gateway_error"
    http_status = 502
    default_message = _l("The payment provider could not complete the request. Try again later.")

    def __init__(self, message=None, *, retryable: bool = False, gateway_code: str = "", **kw):
        self.retryable, self.gateway_code = retryable, gateway_code
        super().__init__(message, **kw)


@dataclass(frozen=True)
class CheckoutStart:
    session_id: str
    url: str | None  # where to send the payer; None: the sandbox took the money at once


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    status: str  # succeeded, pending or failed (Stripe's refund statuses)


class PaymentGateway(Protocol):
    name: str
    is_sandbox: bool

    def start_deposit(self, deposit: Deposit, success_url: str,
                      cancel_url: str) -> CheckoutStart: ...

    def checkout_status(self, session_id: str) -> str: ...

    def refund(self, refund: EscrowRefund, payment_intent_id: str) -> RefundResult: ...


class SandboxGateway:
    """No keys, no network: every payment succeeds at once. Pages say "Sandbox" when in use."""

    name = "sandbox"
    is_sandbox = True

    def start_deposit(self, deposit, success_url, cancel_url):
        return CheckoutStart(session_id=f"sandbox_cs_{deposit.id}", url=None)

    def checkout_status(self, session_id):
        return "paid"

    def refund(self, refund, payment_intent_id):
        return RefundResult(refund_id=f"sandbox_re_{refund.id}", status="succeeded")


class StripeGateway:
    """Stripe Checkout for deposits, Stripe Refunds for withdrawals of unused escrow."""

    name = "stripe"
    is_sandbox = False

    def __init__(self, secret_key: str, api_base: str = ""):
        self.client = stripe.StripeClient(
            secret_key, max_network_retries=STRIPE_NETWORK_RETRIES,
            base_addresses={"api": api_base} if api_base else None)

    def start_deposit(self, deposit, success_url, cancel_url):
        metadata = {"deposit_id": str(deposit.id), "advertiser_id": str(deposit.advertiser_id)}
        params = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": deposit.currency.lower(), "unit_amount": deposit.amount,
                "product_data": {"name": "Escrow top-up"}}}],
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

    def refund(self, refund, payment_intent_id):
        params = {"payment_intent": payment_intent_id, "amount": refund.amount,
                  "metadata": {"refund_id": str(refund.id), "deposit_id": str(refund.deposit_id)}}
        result = self._call(self.client.v1.refunds.create, params, f"escrow-refund-{refund.id}")
        return RefundResult(refund_id=result.id, status=result.status)

    @staticmethod
    def _call(method, argument, idempotency_key: str | None = None):
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        try:
            return method(argument, options=options)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            raise GatewayError(retryable=True, gateway_code=type(error).__name__) from error
        except stripe.StripeError as error:
            status = error.http_status or 0
            code = error.code or type(error).__name__
            current_app.logger.warning("stripe refused: %s %s %s", status, code, error.user_message)
            raise GatewayError(retryable=status >= 500 or status == 409,
                               gateway_code=code) from error


def get_gateway() -> PaymentGateway:
    """Stripe when STRIPE_SECRET_KEY is set, else the sandbox; one instance per app."""
    gateway = current_app.extensions.get("cpa_gateway")
    if gateway is None:
        key = current_app.config.get("STRIPE_SECRET_KEY")
        gateway = (StripeGateway(key, current_app.config.get("STRIPE_API_BASE", ""))
                   if key else SandboxGateway())
        current_app.extensions["cpa_gateway"] = gateway
    return gateway


def gateway_named(name: str) -> PaymentGateway:
    """The gateway that took a payment, to refund it the same way."""
    if name == SandboxGateway.name:
        return SandboxGateway()
    gateway = get_gateway()
    if gateway.name != name:
        raise GatewayError(_l("The payment provider of this deposit is not configured."),
                           gateway_code="gateway_not_configured")
    return gateway
