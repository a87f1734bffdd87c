"""An approved offer cannot start sending visitors to a site the operator has not seen: an edit
that moves its landing or fallback URL to another host puts it back in moderation, its links
stop (without the new fallback) until it is approved, and no macro may choose the host."""

from cpa_network.extensions import db
from offers import moderation
from offers import status as st
from tests.factories import make_api_key, make_user
from tests.offers.helpers import click, make_link, make_offer
from tests.offers.test_offers import _form


def _patch(client, offer, **fields):
    key = make_api_key(offer.advertiser)
    return client.patch(f"/api/v1/offers/{offer.id}", json=fields,
                        headers={"Authorization": f"Bearer {key}"})


def test_a_new_landing_host_sends_the_offer_back_to_moderation(client, app_context):
    offer = make_offer()
    link = make_link(offer)
    same_site = _patch(client, offer, landing_url="https://shop.example.com/new?cid={click_id}")
    assert (same_site.status_code, same_site.json["status"]) == (200, "active")
    assert click(client, link).headers["Location"].startswith("https://shop.example.com/new?")

    moved = _patch(client, offer, landing_url="https://elsewhere.example.net/?cid={click_id}")
    assert (moved.status_code, moved.json["status"]) == (200, "pending_moderation")
    assert click(client, link).status_code == 404  # not the new site before the operator saw it

    moderation.moderate(offer.id, make_user("admin"), "approve")
    db.session.commit()
    assert click(client, link).headers["Location"].startswith("https://elsewhere.example.net/?")


def test_a_new_fallback_host_is_not_served_while_the_offer_is_in_moderation(client,
                                                                            app_context):
    offer = make_offer(fallback_url="https://shop.example.com/home")
    link = make_link(offer)
    assert _patch(client, offer, status="paused").json["status"] == "paused"
    assert click(client, link).headers["Location"] == "https://shop.example.com/home"
    moved = _patch(client, offer, fallback_url="https://phishing.example.org/")
    assert moved.json["status"] == "pending_moderation"
    gone = click(client, link)
    assert gone.status_code == 404 and "Location" not in gone.headers


def test_the_edit_form_says_the_offer_is_back_in_moderation(client, app_context):
    offer = make_offer(make_user("advertiser", email="adv@example.com"))
    client.login("adv@example.com")
    url = f"/advertiser/offers/{offer.id}/edit"
    kept = client.submit(url, _form(landing_url="https://shop.example.com/?c={click_id}"))
    assert kept.status_code == 302
    db.session.expire_all()
    assert offer.status == st.ACTIVE
    moved = client.submit(url, _form(landing_url="https://other.example.com/?c={click_id}"),
                          follow_redirects=True)
    assert "back in moderation" in moved.get_data(as_text=True)
    db.session.expire_all()
    assert offer.status == st.PENDING
    assert offer in moderation.moderation_queue()


def test_a_macro_cannot_choose_the_site(client, app_context):
    offer = make_offer()
    for landing in ("https://{sub1}/", "https://shop.example.com{sub1}/x",
                    "https://{sub1}.example.com/"):
        refused = _patch(client, offer, landing_url=landing)
        assert refused.status_code == 422, landing
        assert refused.json["error"]["fields"]["landing_url"] == [
            "Macros can go in the path and the query, not in the site's address."]
    db.session.expire_all()
    assert offer.status == st.ACTIVE
