"""The publisher's tools and the click path under hostile or unusual input: NUL and other
control characters, malformed deep links, dates at the calendar's ends, a link too long for a
QR code. Each gets a clear answer (or is cleaned), never a 500 or a stalled flush."""

import time
from urllib.parse import urlsplit

import pytest

from offers import stream
from offers.tasks import drain_stream
from offers.tracking import new_click_id
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import conversions, live_setup, postback_url
from tests.offers.helpers import click, make_link, make_offer, stored_clicks

IP_HASH = "f" * 32


def test_stats_api_far_future_date_is_a_422_not_a_500(client, app_context):
    publisher = make_user("publisher")
    key = make_api_key(publisher)
    response = client.get("/api/v1/stats?from=9999-12-31&to=9999-12-31",
                          headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 422, (response.status_code, response.get_json())


def test_stats_page_far_future_date_is_not_a_500(client, app_context):
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    response = client.get("/stats?from=9999-12-31&to=9999-12-31")
    assert response.status_code != 500


def test_stats_page_year_one_in_an_eastern_zone_is_not_a_500(client, app_context):
    make_user("publisher", email="pub@example.com", timezone="Europe/Moscow")
    client.login("pub@example.com")
    response = client.get("/stats?from=0001-01-01&to=0001-01-02")
    assert response.status_code != 500


def test_link_builder_with_a_bad_port_in_the_deep_link_is_not_a_500(client, app_context):
    offer = make_offer()
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    client.submit(f"/catalog/{offer.id}/link", page=f"/catalog/{offer.id}")  # "Get link"
    for deep_link in ("https://shop.example.com:99999/x", "https://shop.example.com:abc/x",
                      "http://[shop.example.com/x"):
        response = client.get(f"/catalog/{offer.id}/link?deep_link={deep_link}")
        assert response.status_code != 500, deep_link


def test_api_link_with_a_bad_port_in_the_deep_link_is_a_422_not_a_500(client, app_context):
    offer = make_offer()
    key = make_api_key(make_user("publisher"))
    headers = {"Authorization": f"Bearer {key}"}
    assert client.post(f"/api/v1/offers/{offer.id}/links", json={},
                       headers=headers).status_code == 200
    response = client.post(f"/api/v1/offers/{offer.id}/links",
                           json={"deep_link": "https://shop.example.com:abc/x"}, headers=headers)
    assert response.status_code == 422, (response.status_code, response.get_json())


def test_api_first_link_request_with_a_valid_deep_link_is_accepted(client, app_context):
    """The first call creates the link in the request's transaction: the deep link is checked
    against the offer itself, not the route cache (its own connection cannot see the link)."""
    offer = make_offer()
    key = make_api_key(make_user("publisher"))
    headers = {"Authorization": f"Bearer {key}"}
    response = client.post(f"/api/v1/offers/{offer.id}/links",
                           json={"sub1": "tg", "deep_link": "/sale/shoes"}, headers=headers)
    assert response.status_code == 200, (response.status_code, response.get_json())
    assert "dl=%2Fsale%2Fshoes" in response.get_json()["url"]


def test_builder_first_visit_with_a_valid_deep_link_accepts_it(client, app_context):
    offer = make_offer()
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    html = client.get(f"/catalog/{offer.id}/link?deep_link=/sale/shoes").get_data(as_text=True)
    assert "A deep link must be a page on the offer" not in html
    assert "dl=%2Fsale%2Fshoes" in html


def test_click_with_a_bad_port_in_the_deep_link_ignores_it_and_still_redirects(
        client, app_context):
    """README: a deep link to another host is ignored by the click. A malformed one (a port
    that is not a number) makes the whole click fail: 404, no click recorded."""
    link = make_link(make_offer())
    response = click(client, link, "?dl=https%3A%2F%2Fshop.example.com%3A99999%2Fx")
    assert response.status_code == 302, response.status_code
    assert urlsplit(response.headers["Location"]).netloc == "shop.example.com"


def test_qr_code_of_a_long_but_valid_link_is_not_a_500(client, app_context):
    """A deep link within the builder's 1,000-character limit, in Cyrillic: the builder page
    shows the link, but its QR download is a 500 (the URL-encoded link exceeds a QR code's
    capacity: qrcode raises ValueError "Invalid version (was 41)")."""
    offer = make_offer()
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    client.submit(f"/catalog/{offer.id}/link", page=f"/catalog/{offer.id}")
    query = "deep_link=/" + "я" * 999
    page = client.get(f"/catalog/{offer.id}/link?{query}")
    assert page.status_code == 200
    response = client.get(f"/catalog/{offer.id}/qr.png?{query}")
    assert response.status_code != 500


def test_a_nul_byte_in_a_sub_id_does_not_stall_the_flush(client, app_context, test_side_app,
                                                          monkeypatch):
    """`?sub1=%00` decodes to "\\x00", which PostgreSQL text refuses: stored as it was, it failed
    its batch's INSERT at every retry and no later click reached PostgreSQL. Control characters
    are dropped from sub-ids (and user agents, referers) at the click and again at the flush."""
    link = make_link(make_offer())
    assert click(client, link, "?sub1=a%00b").status_code == 302
    assert click(client, link, "?sub1=fine").status_code == 302
    # A record an older release put in the stream with the NUL still in it.
    ms = int(time.time() * 1000)
    old = new_click_id(ms)
    stream.redis_for_clicks().xadd(stream.STREAM, {"id": old, "d": stream.encode_record([
        old, ms, link.id, link.offer_id, link.publisher_id, "x\x00y", "", "", "", "",
        IP_HASH, "81.2.69.0/24", "Mozilla/5.0\x00", "", "RU", "", 0])})
    drain_stream()
    assert sorted(c.sub1 for c in stored_clicks()) == ["ab", "fine", "xy"]


def test_a_deep_link_with_a_control_character_is_ignored(client, app_context):
    """A control character in Location is refused by servers (gunicorn: InvalidHeader): the
    deep link is ignored like a foreign one and the visitor goes to the landing page."""
    link = make_link(make_offer())
    response = click(client, link, "?dl=%2Fsale%00%01")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in location), repr(location)


def test_a_postback_for_a_click_with_a_nul_sub_id_is_not_a_500(client, app_context):
    """The same NUL reaches a conversion while its click waits in the stream: the conversion
    copies the click's sub-ids, and its INSERT fails."""
    from urllib.parse import parse_qs

    from tests.offers.conversion_helpers import postback_url

    offer = make_offer()
    link = make_link(offer)
    response = click(client, link, "?sub1=a%00b")
    click_id = parse_qs(urlsplit(response.headers["Location"]).query)["cid"][0]
    answer = client.get(postback_url(offer, click_id))
    assert answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True)[:300])


@pytest.mark.parametrize("extra", [{"txid": "A\x00B"}, {"customer": "c\x00"}])
def test_a_postback_with_a_control_character_in_txid_or_customer_is_refused(client,
                                                                           app_context, extra):
    offer, _link, click_id = live_setup()
    answer = client.get(postback_url(offer, click_id, **extra))
    assert answer.status_code == 400 and answer.json["status"] == "invalid_request"
    assert "control characters" in answer.json["message"]
    assert conversions() == []


def test_a_promo_code_with_nul_is_refused_not_a_500(client, app_context):
    offer, _link, _click_id = live_setup()
    key = make_api_key(offer.advertiser)
    answer = client.post("/api/v1/conversions", headers={"Authorization": f"Bearer {key}"},
                         json={"promo_code": "SP\x00", "goal": "registration", "txid": "x"})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_failed"
