"""Publisher rules: get a link for an offer, build it with sub-ids and a deep link, QR codes."""

import io
from dataclasses import dataclass

import qrcode
from flask_babel import lazy_gettext as _l
from qrcode.exceptions import DataOverflowError
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage

from cpa_network.accounts.models import User
from cpa_network.errors import ValidationFailed
from offers import access, links
from offers.models import Offer
from offers.tracking_models import SUB_IDS, TrackingLink


@dataclass(frozen=True)
class BuiltLink:
    offer: Offer
    link: TrackingLink
    url: str
    subs: dict
    deep_link: str


def get_link(publisher: User, offer_id: int) -> tuple[Offer, TrackingLink]:
    """The publisher's link for an offer they may promote (created on first request)."""
    offer = access.visible_offer(publisher, offer_id)
    return offer, links.link_for(offer, publisher)


def build_link(publisher: User, offer_id: int, params: dict) -> BuiltLink:
    """The link with the sub-ids and deep link from `params`; a foreign deep link is refused."""
    offer, link = get_link(publisher, offer_id)
    subs = {name: (params.get(name) or "").strip() for name in SUB_IDS}
    deep_link = (params.get("deep_link") or "").strip()
    return BuiltLink(offer, link, links.tracking_url(link, subs, deep_link), subs, deep_link)


def qr_code(data: str, kind: str) -> bytes:
    """A QR code of `data` as PNG (pure-Python PyPNG) or SVG; ValidationFailed if `data` is
    more than a QR code holds (about 2,300 bytes: long sub-ids or a deep link, once encoded)."""
    factory = PyPNGImage if kind == "png" else SvgPathImage
    try:
        image = qrcode.make(data, image_factory=factory, box_size=10, border=4,
                            error_correction=qrcode.constants.ERROR_CORRECT_M)
    except (DataOverflowError, ValueError):  # qrcode raises ValueError past version 40
        raise ValidationFailed(_l("This link is too long for a QR code: shorten the deep link "
                                  "or the sub-ids.")) from None
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
