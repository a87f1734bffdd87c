"""Blocking an advertiser stops their offers everywhere at once (catalog, links, postbacks), no
way of putting one live again works while the block lasts, and unblocking leaves the restart
to the advertiser."""

import pytest

from cpa_network.extensions import db
from offers import moderation, services
from offers import status as st
from offers.advertiser_block import BLOCKED
from offers.services import AdvertiserBlocked
from offers.tasks import fund_all_awaiting
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import (
    assert_books_balance,
    live_setup,
    postback_url,
    stored_click,
)
from tests.offers.helpers import click, make_offer
from tests.payouts.helpers import fund_escrow


def _block_from_the_users_page(client, user_id: int) -> None:
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    client.submit(f"/admin/users/{user_id}/block", {"reason": "fake offers"},
                  page="/admin/users")
    client.submit("/logout", page="/dashboard")


def test_blocking_an_advertiser_stops_their_offers_everywhere(client, app_context):
    offer, link, click_id = live_setup()
    other = make_offer()  # another advertiser's offer keeps running
    assert click(client, link).status_code == 302
    publisher_key = make_api_key(link.publisher)

    _block_from_the_users_page(client, offer.advertiser_id)

    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.PAUSED, BLOCKED)
    assert other.status == st.ACTIVE
    assert click(client, link).status_code == 404  # the route cache was told at commit
    headers = {"Authorization": f"Bearer {publisher_key}"}
    assert client.get(f"/api/v1/offers/{offer.id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/offers/{other.id}", headers=headers).status_code == 200
    answer = client.get(postback_url(offer, click_id, txid="AFTER-BLOCK"))
    assert (answer.status_code, answer.json["status"]) == (409, "offer_paused")
    assert_books_balance()


def test_no_way_puts_a_blocked_advertisers_offer_live(client, app_context):
    from cpa_network.accounts.services import block_user

    advertiser = make_user("advertiser")
    live = make_offer(advertiser)
    waiting = make_offer(advertiser, live=False)  # in moderation when the block comes
    block_user(advertiser, "fraud")
    db.session.commit()

    with pytest.raises(AdvertiserBlocked):
        moderation.moderate(waiting.id, make_user("admin"), "approve")
    db.session.rollback()
    with pytest.raises(AdvertiserBlocked):
        services.change_status(live, st.ACTIVE)
    db.session.rollback()
    admin_key = make_api_key(make_user("admin"))
    answer = client.post(f"/api/v1/offers/{waiting.id}/moderation", json={"decision": "approve"},
                         headers={"Authorization": f"Bearer {admin_key}"})
    assert (answer.status_code, answer.json["error"]["code"]) == (409, "advertiser_blocked")
    db.session.expire_all()
    assert (live.status, waiting.status) == (st.PAUSED, st.PENDING)


def test_a_top_up_does_not_resume_an_offer_the_block_stopped(client, app, app_context):
    from cpa_network.accounts.services import block_user, unblock_user

    offer, link, click_id = live_setup(escrow=11_00)
    client.get(postback_url(offer, click_id, txid="1"))
    client.get(postback_url(offer, stored_click(link, ip="5.18.8.1"), txid="2"))
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.PAUSED, "insufficient_funds")
    block_user(offer.advertiser, "fraud")
    db.session.commit()
    assert offer.paused_reason == BLOCKED
    fund_escrow(offer.advertiser_id, 30_00, key="late-top-up")
    with app.app_context():
        assert fund_all_awaiting() == 1  # the publisher's conversion is funded all the same
    unblock_user(offer.advertiser)
    db.session.commit()
    with app.app_context():
        fund_all_awaiting()
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.PAUSED, BLOCKED)
    services.change_status(offer, st.ACTIVE)  # the advertiser's own resume
    db.session.commit()
    assert_books_balance()


def test_after_unblocking_the_advertiser_resumes_the_offer_themselves(client, app_context):
    offer, link, _click_id = live_setup()
    _block_from_the_users_page(client, offer.advertiser_id)
    client.login("ops@example.com")
    client.submit(f"/admin/users/{offer.advertiser_id}/unblock", page="/admin/users")
    client.submit("/logout", page="/dashboard")
    db.session.expire_all()
    assert offer.status == st.PAUSED
    assert click(client, link).status_code == 404

    client.login(offer.advertiser.email)
    page = client.get(f"/advertiser/offers/{offer.id}").get_data(as_text=True)
    assert "Paused when the operator blocked your account" in page
    client.submit(f"/advertiser/offers/{offer.id}/status", {"target": "active"},
                  page=f"/advertiser/offers/{offer.id}")
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.ACTIVE, "")
    assert click(client, link).status_code == 302
