"""Pixel conversions: `/p/<offer id>.gif?goal=…&txid=…[&amount=…&currency=…&customer=…]`,
loaded by the customer's browser on the advertiser's thank-you page.

The click is the one named by the attribution cookie `cpa_o<offer id>` that the click path set
(HttpOnly; `SameSite=None; Secure` in production, so the browser sends it with this
third-party image request). No secret is involved: the cookie is the proof, which makes pixels
weaker than server-to-server postbacks (a browser that blocks third-party cookies converts
nothing, and anyone holding the cookie can fire the pixel); txid dedupes repeats as always.
The JS snippet (`static/js/pixel.js`) builds the same request from data attributes.
"""

import base64
from datetime import datetime

from flask import current_app

from cpa_network.ratelimits import enforce
from offers import attribution
from offers.offer_cache import offer_for_conversion
from offers.postbacks import Trace, conversion_input
from offers.refusals import UnknownClick
from offers.tracking import find_click, is_click_id, read_attribution_cookie

# A transparent 1x1 GIF.
GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def cookie_name(offer_id: int) -> str:
    return f"cpa_o{offer_id}"


def ingest(offer_id: int, cookie: str | None, params: dict[str, str], user_agent: str,
           trace: Trace, at: datetime | None = None, remote_ip: str = "") -> attribution.Outcome:
    """Record the goal for the click the browser's attribution cookie names, once the call is
    counted against the offer's `RATELIMIT_PIXEL` for its address."""
    offer = offer_for_conversion(offer_id)
    if offer is None:
        raise UnknownClick()
    trace.offer_id = offer.id
    enforce(current_app.config["RATELIMIT_PIXEL"], "pixel", f"{offer.id}:{remote_ip}")
    data = conversion_input(params, "pixel", user_agent=user_agent)
    cookie_click_id = read_attribution_cookie(cookie)[0]
    click = find_click(cookie_click_id) if cookie_click_id and is_click_id(
        cookie_click_id) else None
    if click is None or click.offer_id != offer.id:
        raise UnknownClick()
    return attribution.record(offer, click.link_id, click.publisher_id, click, data, at)
