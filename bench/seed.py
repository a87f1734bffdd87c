"""Set-up shared by the postback and soak benchmarks: funded live offers and clicks to convert.

Call inside an app context; the caller commits.
"""

from datetime import timedelta


def funded_offers(advertisers, admin, publisher, secret: str, prefix: str, payout: int) -> list:
    """One live, approved offer per advertiser (goal `order`, fixed `payout`, all with the
    postback `secret`), its escrow funded, and the publisher's link to each."""
    from offers import links, moderation, services
    from payouts import ledger
    from payouts.models import AccountKind

    offer_links = []
    for number, advertiser in enumerate(advertisers):
        offer = services.create_offer(advertiser, services.OfferData(
            name=f"{prefix.capitalize()} offer {number}", category="ecommerce", currency="USD",
            landing_url="https://shop.example.com/land?cid={click_id}",
            goals=(services.GoalData("order", "fixed", payout),)))
        offer.postback_secret = secret
        ledger.post_transaction(f"{prefix}-deposit-{number}", ledger.transfer(
            ledger.network_account(AccountKind.GATEWAY_CLEARING, "USD"),
            ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser.id, "USD"),
            10_000_000_00), "deposit", {"advertiser": advertiser.id})
        moderation.moderate(offer.id, admin, "approve")
        offer_links.append(links.link_for(offer, publisher))
    return offer_links


def hour_old_clicks(offer_links, publisher_id: int, count: int, sub1: str) -> list[dict]:
    """Store `count` clicks an hour old spread over the links, each from its own address (so
    no fraud signal holds their conversions); their records."""
    from cpa_network.database import utcnow
    from offers.clickstore import store_clicks
    from offers.tracking import hash_ip, new_click_id

    at = utcnow() - timedelta(hours=1)
    ms = int(at.timestamp() * 1000)
    records = []
    for n in range(count):
        link = offer_links[n % len(offer_links)]
        records.append({
            "id": new_click_id(ms), "clicked_at": at, "link_id": link.id,
            "offer_id": link.offer_id, "publisher_id": publisher_id, "sub1": sub1,
            "sub2": "", "sub3": "", "sub4": "", "sub5": "",
            "ip_hash": hash_ip(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"),
            "ip_prefix": "", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
            "referer": "", "country": "US", "is_unique": True, "flags": ""})
    store_clicks(records)
    return records
