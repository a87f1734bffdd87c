"""Stripe Connect for the fake (tests/stripe_fake.py): Express accounts, account links, and
Transfers (create, retrieve, list by `transfer_group` / `destination`), with the errors Stripe
answers for a destination that cannot be paid and for a platform balance that is too low."""

import secrets
import time


class StripeFailure(Exception):
    """A Stripe error response."""

    def __init__(self, status: int, type_: str, message: str, code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.body = status, {"error": {
            k: v for k, v in {"type": type_, "message": message, "code": code,
                              "param": param}.items() if v is not None}}


class ConnectObjects:
    """Mixed into FakeStripe: needs `objects`, `balance`, `new_id` and `url`."""

    def create_account(self, params):
        if params.get("type") != "express":
            raise StripeFailure(400, "invalid_request_error", "Only Express accounts here.",
                                "parameter_invalid_empty", "type")
        account = {"id": self.new_id("acct"), "object": "account", "type": "express",
                   "email": params.get("email"), "charges_enabled": False,
                   "payouts_enabled": False, "details_submitted": False,
                   "capabilities": {"transfers": "inactive"},
                   "metadata": params.get("metadata", {}), "created": int(time.time())}
        self.objects[account["id"]] = account
        return 200, account

    def create_account_link(self, params):
        account = self.objects.get(params.get("account", ""))
        if account is None or account["object"] != "account":
            raise StripeFailure(400, "invalid_request_error",
                                f"No such account: '{params.get('account')}'",
                                "resource_missing", "account")
        return 200, {"object": "account_link", "created": int(time.time()),
                     "expires_at": int(time.time()) + 300,
                     "url": f"{self.url}/setup/e/{account['id']}/{secrets.token_hex(6)}"}

    def create_transfer(self, params):
        for name in ("amount", "currency", "destination"):
            if not params.get(name):
                raise StripeFailure(400, "invalid_request_error",
                                    f"Missing required param: {name}.", "parameter_missing", name)
        destination = self.objects.get(params["destination"])
        if destination is None or destination["object"] != "account":
            raise StripeFailure(400, "invalid_request_error",
                                f"No such destination: '{params['destination']}'",
                                "resource_missing", "destination")
        if destination["capabilities"].get("transfers") != "active":
            raise StripeFailure(400, "invalid_request_error",
                                "Your destination account needs to have at least one of the "
                                "following capabilities enabled: transfers, crypto_transfers, "
                                "legacy_payments", "insufficient_capabilities_for_transfer")
        amount, code = int(params["amount"]), params["currency"]
        if amount > self.balance.get(code, 0):
            raise StripeFailure(400, "invalid_request_error",
                                "You have insufficient available funds in your Stripe account.",
                                "balance_insufficient")
        self.balance[code] -= amount
        transfer = {"id": self.new_id("tr"), "object": "transfer", "amount": amount,
                    "amount_reversed": 0, "currency": code, "destination": destination["id"],
                    "transfer_group": params.get("transfer_group"),
                    "description": params.get("description"),
                    "metadata": params.get("metadata", {}), "reversed": False,
                    "created": int(time.time()), "livemode": False}
        self.objects[transfer["id"]] = transfer
        return 200, transfer

    def list_transfers(self, params):
        found = [t for t in self.transfers()
                 if all(not params.get(name) or t[name] == params[name]
                        for name in ("transfer_group", "destination"))]
        limit = int(params.get("limit", 10))
        return 200, {"object": "list", "url": "/v1/transfers", "data": found[::-1][:limit],
                     "has_more": len(found) > limit}

    def transfers(self, payout_id: int | None = None) -> list[dict]:
        """Every transfer created, oldest first (those of one payout, by metadata)."""
        made = [o for o in list(self.objects.values()) if o["object"] == "transfer"]
        return [t for t in made
                if payout_id is None or t["metadata"].get("payout_id") == str(payout_id)]

    def complete_onboarding(self, account_id: str, payouts_enabled: bool = True) -> dict:
        """The publisher finished Stripe's onboarding form: the account can (or not) be paid."""
        account = self.objects[account_id]
        account.update(details_submitted=True, payouts_enabled=payouts_enabled,
                       capabilities={"transfers": "active" if payouts_enabled else "inactive"})
        return dict(account)


    def complete_checkout(self, session_id: str, paid: bool = True) -> dict:
        """The payer finished Checkout: a payment intent exists; paid now or (async) later."""
        session = self.objects[session_id]
        intent_data = self.objects[f"{session_id}:payment_intent_data"]
        intent = {"id": self.new_id("pi"), "object": "payment_intent",
                  "amount": session["amount_total"], "currency": session["currency"],
                  "amount_refunded": 0, "transfer_group": intent_data.get("transfer_group"),
                  "metadata": intent_data.get("metadata", {})}
        self.objects[intent["id"]] = intent
        session.update(status="complete", payment_intent=intent["id"],
                       payment_status="paid" if paid else "unpaid")
        return dict(session)
