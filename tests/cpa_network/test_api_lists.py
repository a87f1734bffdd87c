"""The API's one list scheme (limit, cursor, created_from/created_to), its validation errors,
and the endpoints that let publishers and advertisers do over the API what they do on the site."""

import jsonschema

from cpa_network.api.openapi import build_spec
from cpa_network.extensions import db
from cpa_network.notifications import services as notifications
from tests.cpa_network.test_openapi import response_schema
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import conversions, live_setup, postback_url, stored_click
from tests.payouts.helpers import connected_publisher, fund_escrow


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {make_api_key(user)}"}


def _conversions(client, count: int):
    offer, link, _click = live_setup()
    for n in range(count):
        client.get(postback_url(offer, stored_click(link, ip=f"5.18.4.{n}"), txid=f"L-{n}"))
    return offer, link


def test_cursor_pages_cover_every_row_once_newest_first(client, app, app_context):
    offer, _link = _conversions(client, 5)
    auth = bearer(offer.advertiser)
    seen, url = [], "/api/v1/conversions?limit=2"
    while True:
        page = client.get(url, headers=auth).json
        assert len(page["conversions"]) <= 2
        seen += [c["id"] for c in page["conversions"]]
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/conversions?limit=2&cursor={page['next_cursor']}"
    assert seen == sorted((c.id for c in conversions()), reverse=True)
    assert client.get("/api/v1/conversions?created_to=2000-01-01",
                      headers=auth).json["conversions"] == []
    assert len(client.get("/api/v1/conversions?created_from=2000-01-01T00:00:00Z",
                          headers=auth).json["conversions"]) == 5


def test_bad_list_parameters_name_the_field(client, app_context):
    auth = bearer(make_user("advertiser"))
    for query, field in (("limit=0", "limit"), ("limit=abc", "limit"),
                         ("limit=201", "limit"), ("cursor=zzz", "cursor"),
                         ("created_from=yesterday", "created_from"),
                         ("created_from=2026-02-01&created_to=2026-01-01", "created_to"),
                         ("status=nope", "status")):
        answer = client.get(f"/api/v1/deposits?{query}", headers=auth)
        assert answer.status_code == 422, query
        assert answer.json["error"]["code"] == "validation_failed"
        assert field in answer.json["error"]["fields"], query


def test_publisher_links_postback_settings_and_notifications(client, app, app_context):
    _offer, link = _conversions(client, 1)
    publisher = link.publisher
    auth = bearer(publisher)
    with app.app_context():
        spec = build_spec(app)
    links = client.get("/api/v1/links", headers=auth).json
    jsonschema.validate(links, response_schema(spec, "/api/v1/links", "get", 200))
    assert [row["token"] for row in links["links"]] == [link.token]
    refused = client.put("/api/v1/postback-settings", json={"url_template": "ftp://x"},
                         headers=auth)
    assert refused.status_code == 422 and "url_template" in refused.json["error"]["fields"]
    saved = client.put("/api/v1/postback-settings", headers=auth, json={
        "url_template": "https://tracker.example.com/pb?c={click_id}", "on_rejected": True})
    assert saved.status_code == 200 and saved.json["on_rejected"] is True
    assert client.get("/api/v1/postback-settings", headers=auth).json["url_template"] == \
        "https://tracker.example.com/pb?c={click_id}"
    notifications.notify(publisher.id, "new_referral", "test:1", name="Ann")
    db.session.commit()
    listed = client.get("/api/v1/notifications?unread=true", headers=auth).json
    assert listed["unread_count"] == 1 and "Ann" in listed["notifications"][0]["message"]
    assert client.post("/api/v1/notifications/read", headers=auth).json["unread_count"] == 0


def test_advertiser_bulk_review_postback_log_and_money(client, app, app_context):
    offer, _link = _conversions(client, 3)
    auth = bearer(offer.advertiser)
    ids = [c.id for c in conversions()]
    refused = client.post("/api/v1/conversions/bulk", headers=auth,
                          json={"ids": ids, "decision": "reject"})
    assert refused.status_code == 422 and "reason" in refused.json["error"]["fields"]
    decided = client.post("/api/v1/conversions/bulk", headers=auth,
                          json={"ids": [*ids[:2], 999_999], "decision": "approve"}).json
    assert sorted(decided["decided"]) == sorted(ids[:2])
    assert [row["id"] for row in decided["skipped"]] == [999_999]
    log = client.get(f"/api/v1/offers/{offer.id}/postbacks?code=ok", headers=auth).json
    assert len(log["postbacks"]) == 3 and all(line["code"] == "ok" for line in log["postbacks"])
    tried = client.post(f"/api/v1/offers/{offer.id}/postbacks/test", headers=auth,
                        json={"click_id": "nope", "goal": "registration", "txid": "T-1"}).json
    assert tried["status"] == "unknown_click" and len(conversions()) == 3
    history = client.get("/api/v1/transactions?limit=1", headers=auth).json
    assert len(history["entries"]) == 1 and history["next_cursor"]
    txn = client.get(f"/api/v1/transactions/{history['entries'][0]['transaction_id']}",
                     headers=auth).json
    assert txn["postings"] and all(p["currency"] == "USD" for p in txn["postings"])


def test_escrow_withdrawal_refuses_more_than_unused(client, app_context):
    advertiser = make_user("advertiser")
    fund_escrow(advertiser.id, 50_00)
    auth = bearer(advertiser)
    too_much = client.post("/api/v1/escrow/withdrawals", headers=auth,
                           json={"amount": 60_00, "currency": "USD"})
    assert too_much.status_code == 409 and too_much.json["error"]["code"] == "insufficient_funds"
    assert client.get("/api/v1/deposits", headers=auth).json == {"deposits": [],
                                                                 "next_cursor": None}


def test_publisher_referrals_refback_and_payout_settings(client, app_context):
    publisher = connected_publisher()
    referral = make_user("publisher", upline=publisher)
    auth = bearer(publisher)
    tree = client.get("/api/v1/referrals", headers=auth).json["referrals"]
    assert [(row["id"], row["level"]) for row in tree] == [(referral.id, 1)]
    too_high = client.put(f"/api/v1/referrals/{referral.id}/refback", headers=auth,
                          json={"refback_percent": 99})
    assert too_high.status_code == 422 and too_high.json["error"]["fields"]
    saved = client.put(f"/api/v1/referrals/{referral.id}/refback", headers=auth,
                       json={"refback_percent": 25})
    assert saved.json == {"referral_id": referral.id, "refback_percent": 25.0}
    account = client.get("/api/v1/payout-account", headers=auth).json
    assert account["connected"] is True and account["automatic"] is False
    changed = client.put("/api/v1/payout-account", headers=auth, json={"automatic": True}).json
    assert changed["automatic"] is True
    low = client.put("/api/v1/payout-account", headers=auth, json={"minimum_major": 0})
    assert low.status_code == 422 and "minimum_major" in low.json["error"]["fields"]


def test_advertiser_text_ads_and_private_offer_access(client, app_context):
    offer, link, _click = live_setup()
    auth = bearer(offer.advertiser)
    made = client.post(f"/api/v1/offers/{offer.id}/creatives", headers=auth,
                       json={"headline": "Save 20 %", "body": "Today only"})
    assert made.status_code == 201 and made.json["kind"] == "text"
    seen = client.get(f"/api/v1/offers/{offer.id}/creatives", headers=bearer(link.publisher))
    assert [c["headline"] for c in seen.json["creatives"]] == ["Save 20 %"]
    assert client.delete(f"/api/v1/offers/{offer.id}/creatives/{made.json['id']}",
                         headers=auth).status_code == 204
    publisher = make_user("publisher")
    granted = client.post(f"/api/v1/offers/{offer.id}/access", headers=auth,
                          json={"email": publisher.email})
    assert granted.status_code == 201 and granted.json["publisher_id"] == publisher.id
    listed = client.get(f"/api/v1/offers/{offer.id}/access", headers=auth).json["access"]
    assert [row["publisher_id"] for row in listed] == [publisher.id]
    assert client.delete(f"/api/v1/offers/{offer.id}/access/{publisher.id}",
                         headers=auth).status_code == 204
    assert client.get(f"/api/v1/offers/{offer.id}/access", headers=auth).json["access"] == []
