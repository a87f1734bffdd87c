"""The money API refuses a JSON value of the wrong type with the field's own code (422), never
a 500: `currency` and `account` must be strings before they are looked up."""

import pytest
from sqlalchemy import func, select

from cpa_network.extensions import db
from payouts import escrow
from payouts.models import Deposit, EscrowRefund, Payout
from tests.factories import make_api_key, make_user
from tests.payouts.helpers import connected_publisher, fund_escrow
from tests.payouts.test_api import bearer

NOT_STRINGS = [5, 1.5, True, ["USD"], {"code": "USD"}]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("currency", NOT_STRINGS)
def test_a_withdrawal_whose_currency_is_not_a_string_is_currency_unsupported(
        client, app_context, currency):
    key = make_api_key(connected_publisher(earned=150_00))
    response = client.post("/api/v1/withdrawals", json={"amount": 100_00, "currency": currency},
                           headers=bearer(key))
    assert response.status_code == 422, response.data[:300]
    assert response.json["error"]["code"] == "currency_unsupported"
    assert "currency" in response.json["error"]["fields"]
    assert count(Payout) == 0


@pytest.mark.parametrize("path, model", [("/api/v1/deposits", Deposit),
                                         ("/api/v1/escrow/withdrawals", EscrowRefund)])
@pytest.mark.parametrize("currency", NOT_STRINGS)
def test_an_escrow_movement_whose_currency_is_not_a_string_is_currency_unsupported(
        client, app_context, path, model, currency):
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 1000_00)
    response = client.post(path, json={"amount": 100_00, "currency": currency},
                           headers=bearer(make_api_key(advertiser)))
    assert response.status_code == 422, response.data[:300]
    assert response.json["error"]["code"] == "currency_unsupported"
    assert count(model) == 0
    assert escrow.escrow_balance(advertiser.id, "USD") == 1000_00


@pytest.mark.parametrize("account", [["escrow"], {"kind": "escrow"}, 1, True])
def test_a_deposit_whose_account_is_not_a_string_is_a_validation_failure(
        client, app_context, account):
    key = make_api_key(make_user("advertiser"))
    response = client.post("/api/v1/deposits", json={"amount": 100_00, "currency": "USD",
                                                     "account": account}, headers=bearer(key))
    assert response.status_code == 422, response.data[:300]
    assert response.json["error"]["code"] == "validation_failed"
    assert "account" in response.json["error"]["fields"]
    assert count(Deposit) == 0
