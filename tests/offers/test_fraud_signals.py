"""Fraud signals recorded on conversions; suspect conversions are held for the operator."""

from datetime import timedelta

from sqlalchemy import select

from cpa_network.extensions import db
from offers.conversion_models import LoginAddress
from offers.tracking import hash_ip
from payouts.models import AccountKind
from tests.conftest import Browser
from tests.factories import make_api_key
from tests.offers.conversion_helpers import (
    assert_books_balance,
    balance,
    conversions,
    live_setup,
    postback_url,
    stored_click,
)
from tests.offers.helpers import BROWSER

HOME_IP = "95.108.1.20"


def test_logins_are_traced_as_keyed_hashes(client, app_context):
    _offer, link, _click = live_setup()
    client.login(link.publisher.email, environ_base={"REMOTE_ADDR": HOME_IP},
                 headers={"User-Agent": BROWSER})
    [trace] = db.session.scalars(select(LoginAddress)).all()
    assert trace.user_id == link.publisher_id and trace.ip_hash == hash_ip(HOME_IP)
    assert HOME_IP not in (trace.ip_hash, trace.device_hash)


def test_a_conversion_from_the_publishers_own_address_is_self_referral(app, client,
                                                                      app_context):
    offer, link, _click = live_setup()
    client.login(link.publisher.email, environ_base={"REMOTE_ADDR": HOME_IP})
    own = stored_click(link, ip=HOME_IP)
    answer = client.get(postback_url(offer, own, txid="SELF"))
    assert answer.status_code == 202 and answer.json["status"] == "fraud_suspected"
    # The same browser on the same /24 network counts too (the device hash).
    laptop = Browser(app.test_client())
    laptop.login(link.publisher.email, environ_base={"REMOTE_ADDR": "95.108.7.1"},
                 headers={"User-Agent": "Mozilla/5.0 Special/1.0"})
    nearby = stored_click(link, ip="95.108.7.99", agent="Mozilla/5.0 Special/1.0")
    client.get(postback_url(offer, nearby, txid="DEVICE"))
    assert [c.signals for c in conversions()] == [["self_referral"], ["self_referral"]]


def test_many_conversions_from_one_address(client, app_context):
    offer, link, _click = live_setup()
    answers = [client.get(postback_url(offer, stored_click(link, ip="81.2.69.160"),
                                       txid=f"V-{n}")).json["status"] for n in range(6)]
    assert answers == ["ok"] * 4 + ["fraud_suspected"] * 2
    assert conversions()[-1].signals == ["ip_velocity"]


def test_flagged_clicks_and_bot_agents(client, app_context):
    offer, link, _click = live_setup()
    flooded = stored_click(link, ip="2.132.0.1", flags="flood")
    client.get(postback_url(offer, flooded, txid="FLOOD"))
    bot = stored_click(link, ip="2.132.0.2", agent="python-requests/2.32")
    client.get(postback_url(offer, bot, txid="BOT"))
    quick = stored_click(link, ip="2.132.0.3", ago=timedelta(seconds=1))
    client.get(postback_url(offer, quick, txid="QUICK"))
    assert [c.signals for c in conversions()] == [["flagged_click"], ["bot_agent"],
                                                  ["fast_conversion"]]
    assert all(c.held and c.status == "pending" for c in conversions())


def test_the_advertiser_may_reject_a_held_conversion_but_not_approve_it(client, app_context):
    offer, link, _click = live_setup()
    quick = stored_click(link, ip="2.132.0.9", ago=timedelta(seconds=1))
    held_id = client.get(postback_url(offer, quick, txid="QUICK")).json["conversion_id"]
    auth = {"Authorization": f"Bearer {make_api_key(offer.advertiser)}"}
    approved = client.post(f"/api/v1/conversions/{held_id}/approve", headers=auth)
    assert approved.status_code == 409 and approved.json["error"]["code"] == "held_for_review"
    rejected = client.post(f"/api/v1/conversions/{held_id}/reject", headers=auth,
                           json={"reason": "not a real order"})
    assert rejected.status_code == 200
    assert [(c.status, c.held) for c in conversions()] == [("rejected", False)]
    assert balance(AccountKind.ADVERTISER_ESCROW, offer.advertiser_id) == 1_000_00
    assert_books_balance()
