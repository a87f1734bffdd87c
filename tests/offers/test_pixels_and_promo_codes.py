"""The other ways a conversion arrives: a click still in the Redis stream, the pixel with the
attribution cookie, and promo codes through the API."""

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from cpa_network.extensions import db
from offers import links
from offers.conversion_models import PostbackLog
from offers.services import GoalData
from offers.tasks import drain_stream
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import (
    assert_books_balance,
    conversions,
    postback_url,
)
from tests.offers.helpers import click, make_link, make_offer, stored_clicks


def _click_id(response) -> str:
    return parse_qs(urlsplit(response.headers["Location"]).query)["cid"][0]


def test_a_click_still_in_the_redis_stream_is_attributed(client, app, app_context,
                                                        test_side_app, monkeypatch):
    monkeypatch.setitem(app.config, "FRAUD_MIN_CLICK_SECONDS", 0)  # converts at once
    offer = make_offer()
    link = make_link(offer)
    click_id = _click_id(click(client, link, "?sub1=feed"))
    assert stored_clicks() == []  # not flushed yet: only the stream has it
    answer = client.get(postback_url(offer, click_id))
    assert answer.status_code == 200 and answer.json["status"] == "ok"
    [conversion] = conversions()
    assert (conversion.click_id, conversion.sub1, conversion.publisher_id) == (
        click_id, "feed", link.publisher_id)
    with test_side_app.app_context():
        drain_stream()
    assert [c.id for c in stored_clicks()] == [click_id]
    assert_books_balance()


def test_the_pixel_attributes_through_the_attribution_cookie(client, app, app_context,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "FRAUD_MIN_CLICK_SECONDS", 0)
    offer = make_offer(goals=(GoalData("sale", "percent", 1000),), reference_amount=50_00)
    link = make_link(offer)
    click_id = _click_id(click(client, link))  # the test client keeps the cookie
    pixel = client.get(f"/p/{offer.id}.gif?goal=sale&txid=ORDER-7&amount=4990",
                       headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"})
    assert pixel.status_code == 200 and pixel.mimetype == "image/gif"
    assert pixel.headers["X-Conversion-Status"] == "ok"
    assert pixel.headers["Cache-Control"] == "no-store"
    [conversion] = conversions()
    assert (conversion.source, conversion.click_id, conversion.payout) == ("pixel", click_id,
                                                                          4_99)
    again = client.get(f"/p/{offer.id}.gif?goal=sale&txid=ORDER-7&amount=4990")
    assert again.headers["X-Conversion-Status"] == "duplicate" and len(conversions()) == 1
    assert_books_balance()


def test_a_pixel_without_the_cookie_is_an_unknown_click(client, app_context):
    offer = make_offer()
    click(client, make_link(offer))
    client.delete_cookie(f"cpa_o{offer.id}")
    response = client.get(f"/p/{offer.id}.gif?goal=registration&txid=X")
    assert response.status_code == 404 and response.mimetype == "image/gif"
    assert response.headers["X-Conversion-Status"] == "unknown_click"
    assert client.get("/p/999999.gif?goal=x&txid=y").headers["X-Conversion-Status"] == \
        "unknown_click"
    assert conversions() == []


def test_the_pixel_is_rate_limited_per_offer_and_address(client, app, app_context, monkeypatch):
    """A held attribution cookie cannot fire conversions with made-up txids at will: past
    RATELIMIT_PIXEL the address gets 429 (logged, nothing recorded); another address or
    another offer is not affected."""
    monkeypatch.setitem(app.config, "FRAUD_MIN_CLICK_SECONDS", 0)
    monkeypatch.setitem(app.config, "RATELIMIT_PIXEL", "2 per minute")
    offer, other = make_offer(), make_offer()
    click(client, make_link(offer))
    click(client, make_link(other))

    def fire(offer_id: int, txid: str, address: str = "203.0.113.5"):
        return client.get(f"/p/{offer_id}.gif?goal=registration&txid={txid}",
                          environ_base={"REMOTE_ADDR": address})

    answers = [fire(offer.id, f"T{n}") for n in range(3)]
    assert [a.headers["X-Conversion-Status"] for a in answers] == ["ok", "ok", "rate_limited"]
    limited = answers[-1]
    assert limited.status_code == 429 and limited.mimetype == "image/gif"
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert sorted(c.txid for c in conversions()) == ["T0", "T1"]
    assert db.session.scalars(select(PostbackLog.code).where(PostbackLog.offer_id == offer.id)
                              .order_by(PostbackLog.id)).all() == ["ok", "ok", "rate_limited"]
    assert fire(offer.id, "T3", "198.51.100.7").headers["X-Conversion-Status"] == "ok"
    assert fire(other.id, "T4").headers["X-Conversion-Status"] == "ok"
    assert_books_balance()


def test_a_cookie_of_another_offer_does_not_convert_this_one(client, app_context):
    first, second = make_offer(), make_offer()
    click_id = _click_id(click(client, make_link(first)))
    client.set_cookie(f"cpa_o{second.id}", click_id)
    response = client.get(f"/p/{second.id}.gif?goal=registration&txid=X")
    assert response.headers["X-Conversion-Status"] == "unknown_click"


def test_the_js_snippet_is_served_and_builds_the_pixel_request(client):
    with client.get("/static/js/pixel.js") as response:
        script = response.get_data(as_text=True)
    assert "/p/" in script and "document.currentScript" in script


def _promo(client, key, **body):
    return client.post("/api/v1/conversions", json=body,
                       headers={"Authorization": f"Bearer {key}"})


def test_a_promo_code_conversion_goes_to_the_codes_publisher(client, app_context):
    offer = make_offer(goals=(GoalData("order", "percent", 500),), reference_amount=100_00)
    link = make_link(offer)
    key = make_api_key(offer.advertiser)
    created = _promo(client, key, promo_code=link.promo_code.lower(), goal="order",
                     txid="SHOP-1", amount=200_00, customer="c-1")
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["result"], body["payout"], body["fee"], body["status"]) == (
        "ok", 10_00, 1_00, "pending")
    assert body["click_id"] is None and body["source"] == "promo_code"
    [conversion] = conversions()
    assert conversion.publisher_id == link.publisher_id and conversion.link_id == link.id
    repeat = _promo(client, key, promo_code=link.promo_code, goal="order", txid="SHOP-1",
                    amount=200_00)
    assert repeat.status_code == 200 and repeat.json["result"] == "duplicate"
    assert repeat.json["id"] == body["id"]
    assert_books_balance()


def test_promo_code_refusals_use_the_api_error_shape(client, app_context):
    offer = make_offer()
    link = make_link(offer)
    key = make_api_key(offer.advertiser)
    unknown = _promo(client, key, promo_code="NOPE", goal="registration", txid="1")
    assert unknown.status_code == 404
    assert unknown.json["error"]["code"] == "unknown_promo_code"
    # Another advertiser's code is "unknown" too: nobody converts someone else's offer.
    stranger = make_api_key(make_user("advertiser"))
    foreign = _promo(client, stranger, promo_code=link.promo_code, goal="registration",
                     txid="2")
    assert foreign.json["error"]["code"] == "unknown_promo_code"
    wrong_goal = _promo(client, key, promo_code=link.promo_code, goal="sale", txid="3")
    assert wrong_goal.status_code == 422 and wrong_goal.json["error"]["code"] == "goal_unknown"
    typed = _promo(client, key, promo_code=link.promo_code, goal="registration", txid="4",
                   amount=12.5)
    assert typed.status_code == 422 and typed.json["error"]["code"] == "validation_failed"
    publisher = make_api_key(link.publisher)
    assert _promo(client, publisher, promo_code=link.promo_code, goal="registration",
                  txid="5").status_code == 403
    assert conversions() == []
    assert links.link_by_promo_code(link.promo_code).id == link.id
