"""Get link: one stable link per publisher x offer, the builder, QR codes, promo code, embeds,
and click statistics a few seconds after the click."""

import re
from urllib.parse import unquote

from sqlalchemy import func, select

from cpa_network.accounts.services import block_user
from cpa_network.extensions import db
from offers.models import Creative
from offers.tasks import drain_stream
from offers.tracking_models import TrackingLink
from tests.factories import make_user
from tests.offers.helpers import click, make_offer


def test_get_link_is_stable_and_the_builder_adds_sub_ids_and_a_deep_link(client, app_context):
    offer = make_offer(name="Shop", promo_discount_bp=1000)
    db.session.add(Creative(offer_id=offer.id, kind="text", headline="Sale <today>",
                            body="50% off"))
    db.session.commit()
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    assert "Shop" in client.get(f"/catalog/{offer.id}").get_data(as_text=True)
    for _ in range(2):
        response = client.submit(f"/catalog/{offer.id}/link", page=f"/catalog/{offer.id}")
        assert response.status_code == 302
    link = db.session.scalar(select(TrackingLink))
    assert db.session.scalar(select(func.count(TrackingLink.id))) == 1
    page = client.get(f"/catalog/{offer.id}/link?sub1=tg+channel&deep_link=/shoes")
    html = page.get_data(as_text=True)
    assert f"/c/{link.token}?sub1=tg+channel&amp;dl=%2Fshoes" in html
    assert link.promo_code in html and "10 % off" in html
    # The text ad's embed code carries the link and escapes the advertiser's text.
    assert "Sale &amp;lt;today&amp;gt;" in html and f"/c/{link.token}" in html
    refused = client.get(f"/catalog/{offer.id}/link?deep_link=https://evil.example.net/")
    assert "A deep link must be a page on the offer" in refused.get_data(as_text=True)


def test_qr_codes_download_as_png_and_svg(client, app_context):
    offer = make_offer()
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    png = client.get(f"/catalog/{offer.id}/qr.png?sub1=flyer")
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    assert png.headers["Content-Disposition"] == f'attachment; filename="offer-{offer.id}.png"'
    svg = client.get(f"/catalog/{offer.id}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


def test_a_blocked_publishers_link_stops_working(client, app_context):
    offer = make_offer()
    publisher = make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    client.submit(f"/catalog/{offer.id}/link", page=f"/catalog/{offer.id}")
    link = db.session.scalar(select(TrackingLink))
    assert click(client, link).status_code == 302
    block_user(publisher, "bots")
    db.session.commit()
    assert click(client, link).status_code == 404


def test_clicks_show_in_the_publishers_stats_after_a_flush(client, app_context):
    offer = make_offer(name="Stats offer")
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    client.submit(f"/catalog/{offer.id}/link", page=f"/catalog/{offer.id}")
    link = db.session.scalar(select(TrackingLink))
    for sub in ("a", "a", "b"):
        click(client, link, f"?sub1={sub}")
    click(client, link, agent="curl/8")
    drain_stream()  # what the scheduled job does every CLICK_FLUSH_INTERVAL_S
    html = client.get("/stats?group_by=sub1").get_data(as_text=True)
    breakdown = html.split("Breakdown", 1)[1]
    cells = [unquote(c) for c in re.findall(r'<td(?: class="num")?>([^<]*)</td>', breakdown)]
    assert cells[:4] == ["a", "2", "1", "0"]
    by_offer = client.get("/stats").get_data(as_text=True)
    assert "Stats offer" in by_offer
    assert re.findall(r'data-live="(\w+)">(\d+)<', by_offer)[:3] == [
        ("clicks", "4"), ("unique_clicks", "1"), ("flagged_clicks", "1")]
    links_page = client.get("/links").get_data(as_text=True)
    assert link.promo_code in links_page


def test_other_publishers_cannot_read_or_build_private_links(client, app_context):
    private = make_offer(visibility="private")
    make_user("publisher", email="pub@example.com")
    client.login("pub@example.com")
    assert client.get(f"/catalog/{private.id}/link").status_code == 404
    assert client.get(f"/catalog/{private.id}/qr.png").status_code == 404
    response = client.submit(f"/catalog/{private.id}/link", page="/catalog")
    assert response.status_code == 404
