"""The catalog: who sees what, filters, and sorting by real 30-day EPC and conversion rate."""

from datetime import timedelta

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers import access
from offers.clickstore import store_clicks
from offers.services import GoalData
from offers.stats import record_conversion_stats
from offers.tracking import hash_ip, new_click_id
from tests.factories import make_api_key, make_user
from tests.offers.helpers import make_link, make_offer


def history(link, clicks: int, conversions: int, payout_each: int, days_ago: int = 3,
            flagged: int = 0):
    """Real rows through the flush's own code: clicks, then conversions in the rollups."""
    at = utcnow() - timedelta(days=days_ago)
    store_clicks([{
        "id": new_click_id(int(at.timestamp() * 1000) + i), "clicked_at": at,
        "link_id": link.id, "offer_id": link.offer_id, "publisher_id": link.publisher_id,
        "sub1": "", "sub2": "", "sub3": "", "sub4": "", "sub5": "", "ip_hash": hash_ip(str(i)),
        "ip_prefix": "", "user_agent": "ua", "referer": "", "country": "RU", "is_unique": True,
        "flags": "bot" if i < flagged else ""} for i in range(clicks)])
    for _ in range(conversions):
        record_conversion_stats({"link_id": link.id, "offer_id": link.offer_id,
                                 "publisher_id": link.publisher_id}, at, 1, payout_each)
    db.session.commit()


def names(client, query=""):
    html = client.get(f"/catalog{query}").get_data(as_text=True)
    return [part.split("</strong>")[0] for part in html.split("<strong>")[1:]
            if "</strong></a>" in part]


def test_sorting_by_real_epc_and_cr_with_new_offers_last(app, client, app_context, monkeypatch):
    monkeypatch.setitem(app.config, "CATALOG_MIN_CLICKS", 100)
    low_epc = make_offer(name="Low EPC", goals=(GoalData("sale", "fixed", 90_00),))
    high_epc = make_offer(name="High EPC", goals=(GoalData("sale", "fixed", 5_00),))
    fresh = make_offer(name="Fresh", goals=(GoalData("sale", "fixed", 500_00),),
                       escrow=550_00)
    old = make_offer(name="Old traffic")
    source = make_user("publisher")
    history(make_link(low_epc, source), 200, 2, 90_00)  # EPC 0.90, CR 1 %
    history(make_link(high_epc, source), 120, 30, 5_00, flagged=20)  # 100 valid: EPC 1.50
    history(make_link(fresh, source), 99, 50, 500_00)  # below the sample: "new"
    history(make_link(old, source), 500, 400, 10_00, days_ago=40)  # outside 30 days
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    # Offers below the sample (new, or with traffic older than 30 days) come after.
    assert names(client, "?sort=epc")[:2] == ["High EPC", "Low EPC"]
    assert names(client, "?sort=cr")[:2] == ["High EPC", "Low EPC"]
    assert names(client, "?sort=payout")[0] == "Fresh"
    api = client.get("/api/v1/offers?sort=epc", headers={
        "Authorization": f"Bearer {make_api_key(make_user('publisher'))}"}).json["offers"]
    assert [o["name"] for o in api][:2] == ["High EPC", "Low EPC"]
    assert api[0]["stats_30d"]["epc"] == 150.0 and api[0]["stats_30d"]["valid_clicks"] == 100
    assert {o["name"]: o["stats_30d"]["is_new"] for o in api}["Fresh"] is True


def test_epc_ranks_within_a_currency(app, client, app_context, monkeypatch):
    """1.00 RUB a click is 100 kopecks, 0.90 USD 90 cents: compared as numbers, the rouble
    offer would sit between two dollar offers. There are no rates here: currencies group."""
    monkeypatch.setitem(app.config, "CATALOG_MIN_CLICKS", 100)
    source = make_user("publisher")
    for name, currency, payout_each in (("Dollar high", "USD", 150), ("Dollar low", "USD", 90),
                                        ("Rouble", "RUB", 100)):
        offer = make_offer(name=name, currency=currency, goals=(GoalData("sale", "fixed", 5_00),))
        history(make_link(offer, source), 100, 100, payout_each)  # EPC = payout_each
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    assert names(client, "?sort=epc")[:3] == ["Rouble", "Dollar high", "Dollar low"]


def test_filters_and_private_offers_only_for_invited_publishers(client, app_context):
    make_offer(name="Games USD", category="games")
    make_offer(name="Finance RUB", category="finance", currency="RUB",
               allowed_countries=("RU",))
    make_offer(name="Shop percent", category="ecommerce", reference_amount=100_00,
               goals=(GoalData("order", "percent", 500),))
    private = make_offer(name="Secret deal", visibility="private")
    make_offer(name="Not approved", live=False)
    publisher = make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    assert sorted(names(client)) == ["Finance RUB", "Games USD", "Shop percent"]
    assert names(client, "?category=games") == ["Games USD"]
    assert names(client, "?currency=RUB") == ["Finance RUB"]
    assert sorted(names(client, "?country=US")) == ["Games USD", "Shop percent"]
    assert names(client, "?payout_type=percent") == ["Shop percent"]
    assert names(client, "?q=shop") == ["Shop percent"]
    assert client.get(f"/catalog/{private.id}").status_code == 404
    access.invite_publisher(private, publisher.email)
    db.session.commit()
    assert "Secret deal" in names(client)
    assert client.get(f"/catalog/{private.id}").status_code == 200
