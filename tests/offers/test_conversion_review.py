"""Review: the advertiser approves and rejects (pages, bulk, API) only their own offers'
conversions; publishers read only their own; the operator's fraud queue and blocking."""

from datetime import timedelta

import jsonschema
from sqlalchemy import select

from cpa_network.api.openapi import build_spec
from cpa_network.extensions import db
from offers.conversion_models import PostbackLog
from payouts.models import AccountKind
from tests.conftest import run_worker_burst
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import (
    assert_books_balance,
    balance,
    conversions,
    live_setup,
    postback_url,
    stored_click,
)
from tests.offers.helpers import make_link

K = AccountKind


def _with_conversions(client, count: int = 3, **overrides):
    offer, link, _click = live_setup(**overrides)
    for n in range(count):
        client.get(postback_url(offer, stored_click(link, ip=f"5.18.3.{n}"), txid=f"R-{n}"))
    return offer, link


def test_advertiser_approves_and_rejects_on_the_pages(client, app_context):
    offer, link = _with_conversions(client, 2)
    first, second = conversions()
    client.login(offer.advertiser.email)
    page = client.get("/advertiser/conversions").get_data(as_text=True)
    assert f"#{first.id}" in page and "R-0" in page
    url = f"/advertiser/conversions/{first.id}/decide"
    page_url = f"/advertiser/conversions/{first.id}"
    asked = client.submit(url, {"approve": "Approve"}, page=page_url)
    assert asked.status_code == 200  # a confirmation first: how much, and where it goes
    assert "Approve conversion #" in asked.get_data(as_text=True)
    assert "$10.00 goes from your hold" in asked.get_data(as_text=True)
    assert conversions()[0].status == "pending" and balance(
        K.PUBLISHER_AVAILABLE, link.publisher_id) == 0  # nothing moved yet
    client.submit(url, {"approve": "1", "confirmed": "yes"}, page=page_url)
    refused = client.submit(f"/advertiser/conversions/{second.id}/decide", {"reject": "Reject"},
                            page=page_url, follow_redirects=True)
    assert "Say why the conversion is rejected." in refused.get_data(as_text=True)
    asked = client.submit(f"/advertiser/conversions/{second.id}/decide",
                          {"reject": "Reject", "reason": "Order cancelled"}, page=page_url)
    assert "$11.00 (payout and fee) goes back" in asked.get_data(as_text=True)
    assert conversions()[1].status == "pending"
    client.submit(f"/advertiser/conversions/{second.id}/decide",
                  {"reject": "1", "reason": "Order cancelled", "confirmed": "yes"},
                  page=page_url)
    first, second = conversions()
    assert (first.status, second.status, second.decision_reason) == (
        "approved", "rejected", "Order cancelled")
    assert balance(K.PUBLISHER_AVAILABLE, link.publisher_id) == 10_00
    assert balance(K.ADVERTISER_ESCROW, offer.advertiser_id) == 1_000_00 - 11_00
    again = client.submit(url, {"reject": "Reject", "reason": "late", "confirmed": "yes"},
                          page=page_url, follow_redirects=True)
    assert "cannot become" in again.get_data(as_text=True)
    assert_books_balance()


def test_bulk_review_with_filters(app, client, app_context):
    offer, link = _with_conversions(client, 4)
    ids = [c.id for c in conversions()]
    client.login(offer.advertiser.email)
    filtered = client.get(f"/advertiser/conversions?offer_id={offer.id}&status=pending"
                          f"&sub=s1&publisher_id={link.publisher_id}")
    assert all(f"#{i}<" in filtered.get_data(as_text=True) for i in ids)
    empty = client.get("/advertiser/conversions?sub=nothing-like-this").get_data(as_text=True)
    assert "No conversions" in empty
    asked = client.submit("/advertiser/conversions/bulk",
                          {"conversion_id": ids[:3], "reject": "Reject", "reason": "Test orders"},
                          page="/advertiser/conversions")
    assert "Reject 3 conversions?" in asked.get_data(as_text=True)
    client.submit("/advertiser/conversions/bulk",
                  {"conversion_id": ids[:3], "reject": "1", "reason": "Test orders",
                   "confirmed": "yes"}, page="/advertiser/conversions")
    client.submit("/advertiser/conversions/bulk",
                  {"conversion_id": ids, "approve": "1", "confirmed": "yes"},
                  page="/advertiser/conversions")
    assert run_worker_burst(app, "--no-beat", timeout=180).returncode == 0
    db.session.expire_all()
    assert [c.status for c in conversions()] == ["rejected"] * 3 + ["approved"]
    assert_books_balance()


def test_the_api_lists_filters_and_decides_own_offers_only(app, client, app_context):
    offer, _link = _with_conversions(client, 3)
    c1, c2, c3 = conversions()
    auth = {"Authorization": f"Bearer {make_api_key(offer.advertiser)}"}
    listed = client.get(f"/api/v1/conversions?status=pending&offer_id={offer.id}",
                        headers=auth).json
    with app.app_context():
        spec = build_spec(app)
    jsonschema.validate(listed, response_schema(spec, "/api/v1/conversions", "get", 200))
    assert [c["id"] for c in listed["conversions"]] == [c3.id, c2.id, c1.id]
    assert listed["conversions"][0]["fee"] == 1_00 and listed["next_cursor"] is None
    approved = client.post(f"/api/v1/conversions/{c1.id}/approve", headers=auth)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    jsonschema.validate(approved.json, response_schema(
        spec, "/api/v1/conversions/{conversion_id}/approve", "post", 200))
    no_reason = client.post(f"/api/v1/conversions/{c2.id}/reject", json={}, headers=auth)
    assert no_reason.status_code == 422 and no_reason.json["error"]["code"] == \
        "reason_required"
    twice = client.post(f"/api/v1/conversions/{c1.id}/reject", json={"reason": "x"},
                        headers=auth)
    assert twice.status_code == 409 and twice.json["error"]["code"] == "conversion_state"
    # Another advertiser can neither see nor decide these.
    other = {"Authorization": f"Bearer {make_api_key(make_user('advertiser'))}"}
    assert client.get("/api/v1/conversions", headers=other).json["conversions"] == []
    assert client.get(f"/api/v1/conversions/{c2.id}", headers=other).status_code == 404
    assert client.post(f"/api/v1/conversions/{c2.id}/approve",
                       headers=other).status_code == 404
    assert [c.status for c in conversions()] == ["approved", "pending", "pending"]
    assert_books_balance()


def test_a_publisher_reads_only_their_own_conversions(client, app_context):
    offer, link = _with_conversions(client, 2)
    rival_link = make_link(offer)
    client.get(postback_url(offer, stored_click(rival_link, ip="5.18.9.9"), txid="RIVAL"))
    mine = {"Authorization": f"Bearer {make_api_key(link.publisher)}"}
    listed = client.get("/api/v1/conversions", headers=mine).json["conversions"]
    assert len(listed) == 2 and {c["offer_id"] for c in listed} == {offer.id}
    assert "txid" not in listed[0] and "fee" not in listed[0] and "fraud_signals" not in \
        listed[0]
    rival = next(c for c in conversions() if c.publisher_id == rival_link.publisher_id)
    assert client.get(f"/api/v1/conversions/{rival.id}", headers=mine).status_code == 404
    assert client.post(f"/api/v1/conversions/{listed[0]['id']}/approve",
                       headers=mine).status_code == 403
    client.login(link.publisher.email)
    page = client.get("/conversions").get_data(as_text=True)
    assert page.count("<tr>") == 3  # a header and two rows
    assert "available" in page


def test_the_operator_fraud_queue_approves_rejects_and_blocks(client, app_context):
    offer, link, _click = live_setup()
    quick = [stored_click(link, ago=timedelta(seconds=2), ip=f"5.18.4.{n}") for n in range(3)]
    for n, click_id in enumerate(quick):
        assert client.get(postback_url(offer, click_id, txid=f"F-{n}")).json["status"] == \
            "fraud_suspected"
    honest = make_link(offer)
    client.get(postback_url(offer, stored_click(honest, ip="5.18.5.1"), txid="H-1"))
    held = [c for c in conversions() if c.held]
    assert len(held) == 3
    # The advertiser cannot approve a held conversion.
    auth = {"Authorization": f"Bearer {make_api_key(offer.advertiser)}"}
    refused = client.post(f"/api/v1/conversions/{held[0].id}/approve", headers=auth)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "held_for_review"
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    queue = client.get("/admin/fraud/").get_data(as_text=True)
    assert "converted within seconds of the click" in queue
    client.submit(f"/admin/fraud/{held[0].id}", {"approve": "Approve"}, page="/admin/fraud/")
    client.submit(f"/admin/fraud/{held[1].id}", {"block": "Block"}, page="/admin/fraud/")
    statuses = {c.id: (c.status, c.held) for c in conversions()}
    assert statuses[held[0].id] == ("approved", False)
    assert statuses[held[1].id][0] == statuses[held[2].id][0] == "rejected"
    db.session.expire_all()
    assert link.publisher.is_blocked
    honest_conversion = next(c for c in conversions() if c.publisher_id == honest.publisher_id)
    assert honest_conversion.status == "pending"
    # The blocked publisher's links no longer pay.
    late = client.get(postback_url(offer, stored_click(link, ip="5.18.6.1"), txid="LATE"))
    assert late.json["status"] == "publisher_blocked"
    assert_books_balance()


def test_blocking_from_the_users_page_rejects_pending_conversions(client, app_context):
    offer, link = _with_conversions(client, 2)
    make_user("admin", email="ops@example.com")
    client.login("ops@example.com")
    client.submit(f"/admin/users/{link.publisher_id}/block", {"reason": "fake traffic"},
                  page="/admin/users")
    assert {c.status for c in conversions()} == {"rejected"}
    assert balance(K.ADVERTISER_ESCROW, offer.advertiser_id) == 1_000_00
    assert_books_balance()


def test_postback_log_page_and_the_test_tool(client, app_context):
    offer, _link, click_id = live_setup()
    client.get(postback_url(offer, click_id, txid="LIVE-1"))
    client.get(f"/postback?click_id={click_id}&goal=registration&txid=BAD&secret=wrong")
    client.login(offer.advertiser.email)
    page = client.get(f"/advertiser/offers/{offer.id}/postbacks").get_data(as_text=True)
    assert "bad_signature" in page and "secret=***" in page and offer.postback_secret not in \
        page
    assert click_id in page  # the newest click is offered to the test tool
    response = client.submit(f"/advertiser/offers/{offer.id}/postbacks/test",
                             {"click_id": click_id, "goal": "registration", "txid": "TEST-9"},
                             page=f"/advertiser/offers/{offer.id}/postbacks",
                             follow_redirects=True)
    assert "Test postback: ok (HTTP 200)" in response.get_data(as_text=True)
    assert len(conversions()) == 1  # the test recorded nothing
    last = db.session.scalar(select(PostbackLog).order_by(PostbackLog.id.desc()).limit(1))
    assert (last.source, last.code) == ("test", "ok")
    duplicate = client.submit(f"/advertiser/offers/{offer.id}/postbacks/test",
                              {"click_id": click_id, "goal": "registration",
                               "txid": "LIVE-1"},
                              page=f"/advertiser/offers/{offer.id}/postbacks",
                              follow_redirects=True)
    assert "Test postback: duplicate" in duplicate.get_data(as_text=True)
    detail = client.get(f"/advertiser/offers/{offer.id}").get_data(as_text=True)
    assert "hash_hmac" in detail and "createHmac" in detail and "/p/" in detail
    assert_books_balance()
