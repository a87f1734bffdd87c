"""Publishers top up their available balance through the same gateway as escrow deposits, to buy
lots on the exchange: the sandbox credits at once, Stripe only through its signed webhook; the
purchase stays a separate, confirmed action of the buyer."""

import json

import jsonschema
import pytest
from sqlalchemy import func, select

from cpa_network.api.openapi import build_spec
from cpa_network.extensions import db
from payouts import escrow, ledger, refunds
from payouts.invariants import check_ledger
from payouts.models import AccountKind, Deposit, LedgerTransaction
from publishers import exchange
from publishers.exchange_models import Lot, LotSale
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.payouts.conftest import deliver
from tests.payouts.helpers import fund_escrow
from tests.publishers.exchange_helpers import (
    assert_ledger_clean,
    available,
    fund_available,
    make_referral,
)


def listed_lot(price: int = 25_00, currency: str = "USD") -> Lot:
    seller = make_user("publisher")
    lot = exchange.list_referral(seller, make_referral(seller).id, price, currency)
    db.session.commit()
    return lot


def deposits_of(owner_id: int) -> list[Deposit]:
    db.session.expire_all()
    return list(db.session.scalars(select(Deposit).where(Deposit.owner_id == owner_id)
                                   .order_by(Deposit.id)))


def sales() -> int:
    return db.session.scalar(select(func.count(LotSale.id)))


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {make_api_key(user)}"}


@pytest.fixture
def spec(app):
    with app.app_context():
        return build_spec(app)


def test_sandbox_top_up_from_the_lot_page_then_confirm_the_purchase(client, app_context):
    lot = listed_lot(25_00)
    buyer = make_user("publisher", email="buyer@example.com")
    fund_available(buyer.id, 5_00)
    client.login(buyer.email)
    lot_url = f"/exchange/lots/{lot.id}"

    page = client.get(lot_url).get_data(as_text=True)
    assert "Your available balance is $20.00 short of the price." in page
    assert "Top up $20.00 and buy" in page and 'value="20.00"' in page

    confirm = client.submit(f"{lot_url}/top-up", {"amount": "20.00", "currency": "USD"},
                            page=lot_url)
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "Top up your available balance with $20.00?" in html
    assert "nothing is bought until you do" in html
    assert f'action="{lot_url}/top-up"' in html and f'href="{lot_url}"' in html
    assert deposits_of(buyer.id) == []  # nothing moves before the confirmation

    # The currency is the lot's, whatever the form says.
    done = client.submit(f"{lot_url}/top-up", {"amount": "20.00", "currency": "EUR",
                                               "confirmed": "yes"}, page=lot_url)
    assert done.status_code == 302 and done.headers["Location"] == lot_url
    (made,) = deposits_of(buyer.id)
    assert (made.account_kind, made.currency, made.amount, made.status) == (
        "publisher_available", "USD", 20_00, "succeeded")
    assert available(buyer.id) == 25_00
    assert sales() == 0 and db.session.get(Lot, lot.id).status == "listed"  # not bought yet
    back = client.get(lot_url).get_data(as_text=True)
    assert "is in your available balance. Check the lot once more" in back
    assert f"{lot_url}/top-up" not in back  # no longer short
    assert_ledger_clean()

    bought = client.submit(f"{lot_url}/buy", {"confirmed": "yes"}, page=lot_url)
    assert bought.status_code == 302 and "/exchange/sales/" in bought.headers["Location"]
    assert available(buyer.id) == 0 and sales() == 1
    assert_ledger_clean()


def test_a_top_up_below_the_minimum_charge_is_rounded_up_on_the_lot_page(client, app_context):
    lot = listed_lot(25_00)
    buyer = make_user("publisher", email="buyer@example.com")
    fund_available(buyer.id, 24_70)
    client.login(buyer.email)
    page = client.get(f"/exchange/lots/{lot.id}").get_data(as_text=True)
    assert "$0.30 short of the price" in page and "Top up $1.00 and buy" in page


def test_top_up_on_the_earnings_page(client, app_context):
    publisher = make_user("publisher", email="pub@example.com")
    client.login(publisher.email)
    assert 'action="/earnings/top-up"' in client.get("/earnings").get_data(as_text=True)
    confirm = client.submit("/earnings/top-up", {"amount": "15.50", "currency": "EUR"},
                            page="/earnings")
    html = confirm.get_data(as_text=True)
    assert "Top up your available balance with €15.50?" in html
    assert 'action="/earnings/top-up"' in html and "nothing is bought" not in html
    done = client.submit("/earnings/top-up", {"amount": "15.50", "currency": "EUR",
                                              "confirmed": "yes"}, page="/earnings")
    assert done.status_code == 302 and done.headers["Location"] == "/earnings"
    assert available(publisher.id, "EUR") == 15_50
    page = client.get("/earnings").get_data(as_text=True)
    assert "€15.50 is in your available balance." in page
    (made,) = deposits_of(publisher.id)
    detail = client.get(f"/balance/deposits/{made.id}").get_data(as_text=True)
    assert "The money is in your available balance." in detail
    assert escrow.escrow_balance(publisher.id, "EUR") == 0
    assert_ledger_clean()


def test_advertisers_cannot_use_the_publisher_top_up(client, app_context):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    response = client.submit("/earnings/top-up", {"amount": "10", "currency": "USD",
                                                  "confirmed": "yes"}, page="/balance")
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Deposit.id))) == 0


def test_api_top_up_then_buy(client, app_context, spec):
    lot = listed_lot(30_00)
    buyer = make_user("publisher")
    headers = bearer(buyer)

    short = client.post(f"/api/v1/lots/{lot.id}/buy", headers=headers)
    assert short.status_code == 409 and short.json["error"]["code"] == "insufficient_funds"
    assert "Top up at least $30.00 first" in short.json["error"]["message"]
    assert short.json["error"]["fields"]["amount"] == [
        "Deposit at least 3000 minor units of USD to your available balance "
        "(POST /api/v1/deposits), then buy again."]

    made = client.post("/api/v1/deposits", json={"amount": 30_00, "currency": "USD"},
                       headers=headers)
    assert made.status_code == 201, made.json
    jsonschema.validate(made.json, response_schema(spec, "/api/v1/deposits", "post", 201))
    assert made.json["status"] == "succeeded" and made.json["sandbox"] is True
    balances = client.get("/api/v1/balances", headers=headers)
    usd = next(row for row in balances.json["balances"] if row["currency"] == "USD")
    assert usd["available"] == 30_00 and "escrow" not in usd
    assert client.get(f"/api/v1/deposits/{made.json['id']}", headers=headers).json[
        "status"] == "succeeded"
    assert sales() == 0

    bought = client.post(f"/api/v1/lots/{lot.id}/buy", headers=headers)
    assert bought.status_code == 201 and available(buyer.id) == 0
    assert_ledger_clean()


def test_api_deposit_account_for_users_with_both_roles(client, app_context):
    both = make_user("advertiser", "publisher")
    headers = bearer(both)
    default = client.post("/api/v1/deposits", json={"amount": 10_00, "currency": "USD"},
                          headers=headers)
    assert default.status_code == 201
    assert escrow.escrow_balance(both.id, "USD") == 10_00 and available(both.id) == 0
    to_available = client.post("/api/v1/deposits", headers=headers, json={
        "amount": 7_00, "currency": "USD", "account": "available"})
    assert to_available.status_code == 201 and available(both.id) == 7_00
    unknown = client.post("/api/v1/deposits", headers=headers, json={
        "amount": 7_00, "currency": "USD", "account": "savings"})
    assert unknown.status_code == 422 and "account" in unknown.json["error"]["fields"]
    advertiser_only = client.post("/api/v1/deposits", headers=bearer(make_user("advertiser")),
                                  json={"amount": 7_00, "currency": "USD",
                                        "account": "available"})
    assert advertiser_only.status_code == 403
    assert_ledger_clean()


def test_an_escrow_withdrawal_never_refunds_a_publisher_top_up(client, app_context):
    both = make_user("advertiser", "publisher")
    client.post("/api/v1/deposits", headers=bearer(both), json={
        "amount": 50_00, "currency": "USD", "account": "available"})
    fund_escrow(both.id, 20_00)  # escrow money that came from no deposit row
    with pytest.raises(refunds.NothingToRefund):
        refunds.withdraw_escrow(both.id, 20_00, "USD")
    db.session.rollback()
    assert [d.refunded_amount for d in deposits_of(both.id)] == [0]
    assert_ledger_clean()


def stripe_top_up(client, lot, email="buyer@example.com"):
    """The buyer confirms a top-up on the lot page and is sent to Stripe Checkout."""
    buyer = make_user("publisher", email=email)
    client.login(email)
    lot_url = f"/exchange/lots/{lot.id}"
    response = client.submit(f"{lot_url}/top-up", {"amount": "25.00", "currency": "USD",
                                                   "confirmed": "yes"}, page=lot_url)
    return buyer, response


def test_stripe_top_up_is_credited_once_by_the_signed_webhook(client, app_context, stripe_fake):
    lot = listed_lot(25_00)
    buyer, response = stripe_top_up(client, lot)
    (made,) = deposits_of(buyer.id)
    assert response.status_code == 302 and response.headers["Location"] == made.checkout_url
    assert made.status == "pending" and made.account_kind == "publisher_available"
    (call,) = stripe_fake.received("POST", "/v1/checkout/sessions")
    assert call.params["mode"] == "payment"
    assert call.params["metadata"] == {"deposit_id": str(made.id), "publisher_id": str(buyer.id)}
    assert call.params["line_items"][0]["price_data"]["product_data"] == {
        "name": "Balance top-up"}
    assert call.params["success_url"].endswith(f"/exchange/lots/{lot.id}")
    assert call.params["cancel_url"].endswith(f"/exchange/lots/{lot.id}")

    # Back on the lot page before the webhook: nothing credited, the top-up is shown waiting.
    page = client.get(f"/exchange/lots/{lot.id}").get_data(as_text=True)
    assert "Your top-up of $25.00 is waiting for the payment to be confirmed" in page
    assert available(buyer.id) == 0

    session = stripe_fake.complete_checkout(made.checkout_session_id)
    event = stripe_fake.event("checkout.session.completed", session)
    tampered = json.dumps(event).replace('"amount_total": 2500', '"amount_total": 2500000')
    assert deliver(client, event, body=tampered.encode()).status_code == 400
    assert available(buyer.id) == 0

    outcomes = [deliver(client, event).json["outcome"] for _ in range(3)]
    assert outcomes == ["credited", "duplicate", "duplicate"]
    late = stripe_fake.event("checkout.session.async_payment_succeeded", session)
    assert deliver(client, late).json["outcome"] == "already_credited"
    assert available(buyer.id) == 25_00
    assert db.session.scalar(select(func.count(LedgerTransaction.id)).where(
        LedgerTransaction.idempotency_key == f"deposit:{made.id}:credit")) == 1
    assert sales() == 0  # paying never buys by itself
    assert_ledger_clean()

    page = client.get(f"/exchange/lots/{lot.id}").get_data(as_text=True)
    assert "waiting for the payment" not in page and f"/exchange/lots/{lot.id}/top-up" not in page
    bought = client.submit(f"/exchange/lots/{lot.id}/buy", {"confirmed": "yes"},
                           page=f"/exchange/lots/{lot.id}")
    assert bought.status_code == 302 and sales() == 1 and available(buyer.id) == 0
    assert_ledger_clean()


def test_a_top_up_never_credits_another_users_account(client, app_context, stripe_fake):
    lot = listed_lot(25_00)
    buyer, _ = stripe_top_up(client, lot)
    other = make_user("publisher", email="other@example.com")
    (made,) = deposits_of(buyer.id)
    session = stripe_fake.complete_checkout(made.checkout_session_id)

    # Signed, but claiming the other user: the deposit row decides whose account is credited.
    relabelled = dict(session, metadata={"deposit_id": str(made.id),
                                         "publisher_id": str(other.id)})
    assert deliver(client, stripe_fake.event("checkout.session.completed", relabelled)).json[
        "outcome"] == "credited"
    assert available(buyer.id) == 25_00 and available(other.id) == 0

    # The other user's own pending top-up is not paid by this session.
    client.submit("/logout", {}, page="/dashboard")
    client.login("other@example.com")
    client.submit(f"/exchange/lots/{lot.id}/top-up", {"amount": "25.00", "currency": "USD",
                                                      "confirmed": "yes"},
                  page=f"/exchange/lots/{lot.id}")
    (theirs,) = deposits_of(other.id)
    stolen = dict(session, metadata={"deposit_id": str(theirs.id)})
    assert deliver(client, stripe_fake.event("checkout.session.completed", stolen)).json[
        "outcome"] == "unknown_deposit"
    assert available(other.id) == 0 and deposits_of(other.id)[0].status == "pending"
    assert client.get(f"/balance/deposits/{made.id}").status_code == 404
    assert client.get(f"/api/v1/deposits/{made.id}", headers=bearer(other)).status_code == 404
    assert_ledger_clean()


def test_ledger_check_catches_a_deposit_credited_to_someone_else(app_context):
    owner, stranger = make_user("publisher"), make_user("publisher")
    row = Deposit(owner_id=owner.id, account_kind="publisher_available", amount=10_00,
                  currency="USD", gateway="sandbox", status="succeeded", refunded_amount=0,
                  failure_reason="")
    db.session.add(row)
    db.session.flush()
    ledger.post_transaction(
        f"deposit:{row.id}:credit",
        ledger.transfer(ledger.network_account(AccountKind.GATEWAY_CLEARING, "USD"),
                        ledger.account(AccountKind.PUBLISHER_AVAILABLE, stranger.id, "USD"),
                        10_00), "deposit", {"deposit": row.id})
    db.session.commit()
    report = {check.name: check.problems for check in check_ledger().checks}
    assert report["deposits_reach_owner"] == [
        f"deposit {row.id}: credit transaction "
        f"{db.session.scalar(select(LedgerTransaction.id))} does not credit exactly its "
        f"owner's account of its kind"]
