"""GET /c/<token>: where the visitor goes, what is recorded, and what is never a 500."""

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from cpa_network.accounts.services import block_user
from cpa_network.extensions import db
from offers import access, routing, services
from offers import status as st
from offers.clicks import check_deep_link
from offers.models import Offer
from offers.tasks import drain_stream
from offers.tracking import click_ms, is_click_id
from tests.factories import make_user
from tests.offers.helpers import US_IP, click, make_link, make_offer, stored_clicks


def test_redirects_with_macros_filled_and_sub_ids_url_encoded(client, app_context):
    offer = make_offer()
    link = make_link(offer)
    response = click(client, link, "?sub1=spring%20sale%26more"
                                   "&sub2=%D0%BF%D1%80%D0%B8%D0%B2%D0%B5%D1%82&sub3=%7Bclick_id%7D")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "shop.example.com",
                                                                 "/land")
    # Each value is URL-encoded into its slot, so "&" in a sub-id cannot add a parameter.
    assert "s1=spring%20sale%26more&" in location.query
    params = parse_qs(location.query)
    assert params["s1"] == ["spring sale&more"] and params["s2"] == ["привет"]
    assert params["p"] == [str(link.publisher_id)] and params["o"] == [str(offer.id)]
    assert is_click_id(params["cid"][0])
    assert response.headers["Cache-Control"] == "no-store"


def test_each_click_gets_a_new_sortable_id(client, app_context):
    link = make_link(make_offer())
    ids = [parse_qs(urlsplit(click(client, link).headers["Location"]).query)["cid"][0]
           for _ in range(3)]
    assert len(set(ids)) == 3
    assert [click_ms(i) for i in ids] == sorted(click_ms(i) for i in ids)


def test_attribution_cookie_carries_the_click_id_for_the_offers_window(client, app_context):
    offer = make_offer(attribution_window_days=45)
    link = make_link(offer)
    response = click(client, link)
    click_id = parse_qs(urlsplit(response.headers["Location"]).query)["cid"][0]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"cpa_o{offer.id}={click_id}.{link.id};")
    assert f"Max-Age={45 * 86400}" in cookie and "HttpOnly" in cookie


def test_deep_link_stays_on_the_landing_host(client, app_context):
    link = make_link(make_offer())
    route = routing.lookup(link.token)
    assert check_deep_link(route.landing_origin, "/sale/shoes?color=red") == "/sale/shoes?color=red"
    assert check_deep_link(route.landing_origin, "https://shop.example.com/a") == "/a"
    for foreign in ("https://evil.example.net/", "//evil.example.net/x", "/\\evil.example.net",
                    "https://shop.example.com@evil.example.net/", "javascript:alert(1)",
                    "https://shop.example.com:8443/", "ftp://shop.example.com/"):
        assert check_deep_link(route.landing_origin, foreign) is None, foreign
    deep = click(client, link, "?dl=%2Fsale%2Fshoes%3Fcolor%3Dred&sub1=x")
    target = urlsplit(deep.headers["Location"])
    assert (target.netloc, target.path) == ("shop.example.com", "/sale/shoes")
    assert parse_qs(target.query)["color"] == ["red"] and parse_qs(target.query)["s1"] == ["x"]
    # A foreign deep link is ignored: the visitor goes to the normal landing page, never away.
    evil = click(client, link, "?dl=https%3A%2F%2Fevil.example.net%2F")
    assert urlsplit(evil.headers["Location"]).netloc == "shop.example.com"


def test_unique_then_repeat_by_address_and_by_cookie(client, app_context):
    link = make_link(make_offer())
    click(client, link)  # the client keeps the cookie
    click(client, link)
    client.delete_cookie(f"cpa_o{link.offer_id}")
    click(client, link)  # no cookie, same IP and browser: still a repeat
    client.delete_cookie(f"cpa_o{link.offer_id}")
    click(client, link, ip=US_IP)  # another visitor
    drain_stream()
    assert [c.is_unique for c in stored_clicks()] == [True, False, False, True]


def test_a_first_click_on_another_publishers_link_is_not_a_repeat(client, app_context):
    offer = make_offer()
    first, second = make_link(offer), make_link(offer)
    click(client, first)  # the visitor keeps the offer's attribution cookie
    click(client, second, ip=US_IP)  # a new address too: only the cookie links the two
    click(client, second, ip="8.8.4.4")  # back through the same link: the cookie says repeat
    drain_stream()
    assert [(c.link_id, c.is_unique) for c in stored_clicks()] == [
        (first.id, True), (second.id, True), (second.id, False)]


def test_a_link_that_leads_nowhere_notices_another_process_resuming_its_offer(
        client, app_context, monkeypatch):
    from offers import stream

    monkeypatch.setattr(stream, "STATE_EVERY_S", 0.0)  # the once-a-second check, every click
    offer = make_offer()
    link = make_link(offer)
    services.change_status(offer, st.PAUSED)
    db.session.commit()
    assert click(client, link).status_code == 404  # this process caches the paused route
    # Another process resumes it: its commit bumps the generation, not this process's cache.
    db.session.execute(update(Offer).where(Offer.id == offer.id).values(status=st.ACTIVE))
    db.session.commit()
    stream.bump_generation()
    assert click(client, link).status_code == 302


def test_bot_and_flood_clicks_redirect_but_are_flagged(client, app_context, test_side_app,
                                                       monkeypatch):
    monkeypatch.setitem(test_side_app.config, "CLICK_FLOOD_LIMIT", 3)  # the flush decides
    # Its windows are clock-aligned (ms // window): one of ~317 years holds all five clicks, so
    # a minute boundary between them cannot split the count.
    monkeypatch.setitem(test_side_app.config, "CLICK_FLOOD_WINDOW_S", 10**10)
    link = make_link(make_offer())
    assert click(client, link, agent="Googlebot/2.1 (+http://www.google.com/bot.html)",
                 ip="81.2.69.142").status_code == 302
    assert click(client, link, agent="", ip="81.2.69.143").status_code == 302
    responses = [click(client, link, ip="5.18.1.1") for _ in range(5)]
    assert {r.status_code for r in responses} == {302}
    drain_stream()
    flags = [c.flags for c in stored_clicks()]
    assert flags == ["bot", "bot", "", "", "", "flood", "flood"]


def test_country_rule_sends_others_to_the_fallback(client, app_context):
    offer = make_offer(allowed_countries=("RU",), fallback_url="https://shop.example.com/other")
    link = make_link(offer)
    assert urlsplit(click(client, link).headers["Location"]).path == "/land"
    outside = click(client, link, ip=US_IP)
    assert outside.headers["Location"] == "https://shop.example.com/other"
    assert "Set-Cookie" not in outside.headers
    drain_stream()
    assert [(c.country, c.flags) for c in stored_clicks()] == [("RU", ""), ("US", "geo")]


def test_country_rule_without_fallback_shows_a_friendly_page(client, app_context):
    link = make_link(make_offer(allowed_countries=("DE",)))
    response = click(client, link)
    assert response.status_code == 404
    assert "not available in your country" in response.get_data(as_text=True)


@pytest.mark.parametrize("token", ["nope", "x" * 200, "%00", "A" * 22])
def test_unknown_tokens_get_a_friendly_404(client, token):
    response = client.get(f"/c/{token}")
    assert response.status_code == 404
    assert "does not lead anywhere" in response.get_data(as_text=True)


def test_paused_offer_blocked_publisher_and_revoked_access_stop_the_link(client, app_context):
    offer = make_offer()
    link = make_link(offer)
    assert click(client, link).status_code == 302
    services.change_status(offer, st.PAUSED)
    db.session.commit()
    assert click(client, link).status_code == 404
    services.change_status(offer, st.ACTIVE)
    db.session.commit()
    assert click(client, link).status_code == 302
    block_user(link.publisher, "fraud")
    db.session.commit()
    assert click(client, link).status_code == 404

    private = make_offer(visibility="private", fallback_url="https://shop.example.com/home")
    publisher = make_user("publisher")
    access.invite_publisher(private, publisher.email)
    db.session.commit()
    private_link = make_link(private, publisher)
    assert click(client, private_link).status_code == 302
    access.revoke_access(private, publisher.id)
    db.session.commit()
    gone = click(client, private_link)  # the offer has a fallback: the visitor goes there
    assert gone.status_code == 302 and gone.headers["Location"] == "https://shop.example.com/home"
