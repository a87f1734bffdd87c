"""The offers API contract: paths, roles, amounts in minor units, the error shape."""

from tests.factories import make_api_key, make_user
from tests.offers.helpers import make_link, make_offer
from tests.payouts.helpers import fund_escrow

BODY = {"name": "API offer", "category": "software", "currency": "USD",
        "landing_url": "https://app.example.com/?c={click_id}", "hold_days": 10,
        "goals": [{"code": "trial", "payout_type": "fixed", "payout": 500},
                  {"code": "purchase", "payout_type": "percent", "payout": 2000}],
        "reference_amount": 50_00, "allowed_countries": ["ru", "KZ"],
        "caps": [{"scope": "publisher", "period": "month", "metric": "payout", "limit": 100_00}]}


def bearer(user):
    return {"Authorization": f"Bearer {make_api_key(user)}"}


def test_advertiser_creates_reads_and_patches_an_offer(client, app_context):
    advertiser = make_user("advertiser")
    auth = bearer(advertiser)
    created = client.post("/api/v1/offers", json=BODY, headers=auth)
    assert created.status_code == 201
    offer = created.json
    assert offer["status"] == "pending_moderation" and offer["currency"] == "USD"
    plain = {"once_per_click": False, "requires_goal": "", "min_amount": 0}
    assert offer["goals"] == [
        {"code": "trial", "name": "", "payout_type": "fixed", "payout": 500, **plain},
        {"code": "purchase", "name": "", "payout_type": "percent", "payout": 2000, **plain}]
    assert offer["top_payout"] == 10_00 and offer["allowed_countries"] == ["KZ", "RU"]
    assert len(offer["postback_secret"]) == 48 and offer["hold_days"] == 10
    got = client.get(f"/api/v1/offers/{offer['id']}", headers=auth).json
    assert got["postback_secret"] == offer["postback_secret"]
    assert got["stats_30d"]["is_new"] is True
    patched = client.patch(f"/api/v1/offers/{offer['id']}", headers=auth,
                           json={"hold_days": 21, "name": "Renamed"})
    assert patched.status_code == 200
    assert (patched.json["hold_days"], patched.json["name"]) == (21, "Renamed")
    assert patched.json["goals"] == offer["goals"]  # untouched fields stay
    listed = client.get("/api/v1/offers", headers=auth).json["offers"]
    assert [o["id"] for o in listed] == [offer["id"]]


def test_draft_then_submit_and_the_owner_cannot_approve_itself(client, app_context):
    auth = bearer(make_user("advertiser"))
    draft = client.post("/api/v1/offers", json={**BODY, "status": "draft"}, headers=auth).json
    assert draft["status"] == "draft"
    url = f"/api/v1/offers/{draft['id']}"
    assert client.patch(url, json={"status": "pending_moderation"},
                        headers=auth).json["status"] == "pending_moderation"
    refused = client.patch(url, json={"status": "active"}, headers=auth)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "forbidden_transition"


def test_errors_have_a_code_a_message_and_fields(client, app_context):
    auth = bearer(make_user("advertiser"))
    bad = client.post("/api/v1/offers", json={**BODY, "currency": "XYZ", "hold_days": "ten"},
                      headers=auth)
    assert bad.status_code == 422
    assert bad.json["error"]["code"] == "validation_failed"
    assert set(bad.json["error"]["fields"]) == {"hold_days"}  # types are checked first
    bad = client.post("/api/v1/offers", json={**BODY, "currency": "XYZ", "goals": []},
                      headers=auth)
    assert set(bad.json["error"]["fields"]) == {"currency", "goals"}
    missing = client.post("/api/v1/offers", json={"name": "x"}, headers=auth)
    assert set(missing.json["error"]["fields"]) == {"category", "landing_url", "currency",
                                                    "goals"}
    assert client.post("/api/v1/offers", data="nonsense", headers=auth).status_code == 422


def test_publisher_cannot_create_or_patch_and_sees_the_catalog_without_secrets(
        client, app_context):
    offer = make_offer(name="Catalog offer")
    private = make_offer(visibility="private", name="Hidden offer")
    publisher = make_user("publisher")
    auth = bearer(publisher)
    denied = client.post("/api/v1/offers", json=BODY, headers=auth)
    assert denied.status_code == 403 and denied.json["error"]["code"] == "forbidden"
    assert client.patch(f"/api/v1/offers/{offer.id}", json={"name": "x"},
                        headers=auth).status_code == 403
    catalog = client.get("/api/v1/offers", headers=auth).json
    assert [o["name"] for o in catalog["offers"]] == ["Catalog offer"]
    assert "postback_secret" not in catalog["offers"][0]
    seen = client.get(f"/api/v1/offers/{offer.id}", headers=auth)
    assert seen.status_code == 200 and "postback_secret" not in seen.json
    assert client.get(f"/api/v1/offers/{private.id}", headers=auth).status_code == 404


def test_another_advertiser_gets_404(client, app_context):
    offer = make_offer()
    auth = bearer(make_user("advertiser"))
    assert client.get(f"/api/v1/offers/{offer.id}", headers=auth).status_code == 404
    response = client.patch(f"/api/v1/offers/{offer.id}", json={"name": "x"}, headers=auth)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_moderation_endpoint_is_for_operators(client, app_context):
    offer = make_offer(live=False)
    owner_auth = bearer(offer.advertiser)
    url = f"/api/v1/offers/{offer.id}/moderation"
    assert client.post(url, json={"decision": "approve"}, headers=owner_auth).status_code == 403
    admin_auth = bearer(make_user("admin"))
    poor = client.post(url, json={"decision": "approve"}, headers=admin_auth)
    assert poor.status_code == 409 and poor.json["error"]["code"] == "insufficient_escrow"
    assert client.post(url, json={"decision": "reject"},
                       headers=admin_auth).json["error"]["code"] == "reason_required"
    fund_escrow(offer.advertiser_id, 11_00)  # 10.00 and the network's fee
    approved = client.post(url, json={"decision": "approve"}, headers=admin_auth)
    assert approved.status_code == 200 and approved.json["status"] == "active"
    assert "postback_secret" not in approved.json


def test_links_endpoint_returns_token_url_and_promo_code_idempotently(client, app_context):
    offer = make_offer()
    publisher = make_user("publisher")
    auth = bearer(publisher)
    first = client.post(f"/api/v1/offers/{offer.id}/links", headers=auth)
    assert first.status_code == 200
    body = first.json
    assert set(body) >= {"token", "url", "promo_code"}
    assert body["url"].endswith(f"/c/{body['token']}") and len(body["token"]) >= 22
    again = client.post(f"/api/v1/offers/{offer.id}/links", headers=auth,
                        json={"sub1": "tg", "deep_link": "/pricing"}).json
    assert (again["token"], again["promo_code"]) == (body["token"], body["promo_code"])
    assert again["url"].endswith(f"/c/{body['token']}?sub1=tg&dl=%2Fpricing")
    refused = client.post(f"/api/v1/offers/{offer.id}/links", headers=auth,
                          json={"deep_link": "https://evil.example.net/"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "deep_link_refused"
    advertiser_auth = bearer(offer.advertiser)
    assert client.post(f"/api/v1/offers/{offer.id}/links",
                       headers=advertiser_auth).status_code == 403
    make_link(offer)  # another publisher's link does not change ours
    assert client.post(f"/api/v1/offers/{offer.id}/links",
                       headers=auth).json["token"] == body["token"]
