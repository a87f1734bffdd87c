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


def decided_history(offer_links, count: int) -> None:
    """`count` conversions decided over the last 90 days, spread over the links (nine in ten
    approved, the rest rejected), each from its own address, with their postback log lines.
    A postback's statements then run against tables of a size a live network has, not empty
    ones: a plan that reads every row of one shows. Decided conversions hold no money, so the
    ledger has nothing to add for them."""
    from sqlalchemy import text

    from cpa_network.extensions import db

    links = [(link.id, link.offer_id, link.offer.advertiser_id, link.publisher_id)
             for link in offer_links]
    for number, (link_id, offer_id, advertiser_id, publisher_id) in enumerate(links):
        share = count // len(links) + (number < count % len(links))
        db.session.execute(text("""
            INSERT INTO conversions (offer_id, goal_code, advertiser_id, publisher_id, link_id,
                source, txid, customer, amount, currency, payout, fee, status, held,
                fraud_signals, sub1, sub2, sub3, sub4, sub5, country, ip_hash, clicked_at,
                created_at, hold_until, decided_at, decision_reason)
            SELECT :offer, 'order', :advertiser, :publisher, :link, 'postback',
                'history-' || :link || '-' || n, '', 0, 'USD', 1000, 100,
                CASE WHEN n % 10 = 0 THEN 'rejected' ELSE 'approved' END, false, '', 'history',
                '', '', '', '', 'US', md5(:link || '-' || n)::varchar(32),
                at - interval '1 hour', at, at + interval '14 days', at + interval '1 day', ''
            FROM generate_series(1, :share) AS n,
                LATERAL (SELECT now() - interval '90 days' * random() AS at) AS t"""),
            {"offer": offer_id, "advertiser": advertiser_id, "publisher": publisher_id,
             "link": link_id, "share": share})
    db.session.execute(text("""
        INSERT INTO postback_log (received_at, offer_id, source, method, params, remote_prefix,
            code, http_status, message, conversion_id)
        SELECT created_at, offer_id, 'postback', 'GET',
            json_build_object('txid', txid, 'goal', goal_code), '', 'ok', 200,
            'Conversion recorded', id
        FROM conversions WHERE sub1 = 'history'"""))


def vacuumed(database_url: str) -> None:
    """VACUUM ANALYZE after the seeding (after its commit), as autovacuum would have done on a
    live network long before: otherwise it starts during the measured run, and its CPU is
    counted as the postbacks'. On a connection of its own, in autocommit (the app's begin a
    transaction at checkout)."""
    import psycopg

    from bench.scratch import psycopg_dsn

    dsn = psycopg_dsn(database_url)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
