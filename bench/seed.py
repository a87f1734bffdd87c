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
    ones: a plan that reads every row of one shows. Each also has the ledger a live network
    keeps for it (`ledger_history`)."""
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
                -- spread evenly over the 90 days (golden-ratio steps); an uncorrelated
                -- `random()` here is evaluated once, giving every row one time
                LATERAL (SELECT now() - interval '90 days' * ((n * 0.6180339887) % 1) AS at)
                    AS t"""),
            {"offer": offer_id, "advertiser": advertiser_id, "publisher": publisher_id,
             "link": link_id, "share": share})
    db.session.execute(text("""
        INSERT INTO postback_log (received_at, offer_id, source, method, params, remote_prefix,
            code, http_status, message, conversion_id)
        SELECT created_at, offer_id, 'postback', 'GET',
            json_build_object('txid', txid, 'goal', goal_code), '', 'ok', 200,
            'Conversion recorded', id
        FROM conversions WHERE sub1 = 'history'"""))
    ledger_history(links)


# A decided conversion's ledger: its hold, then its approval or its rejection (payouts/escrow).
HISTORY_LEDGER = (
    """CREATE TEMPORARY TABLE history_ids ON COMMIT DROP AS
       SELECT c.id, c.status, c.payout, c.fee, c.created_at, c.decided_at, c.publisher_id,
           nextval('ledger_transactions_id_seq') AS hold_id,
           nextval('ledger_transactions_id_seq') AS settle_id
       FROM conversions c WHERE c.sub1 = 'history' AND c.advertiser_id = :advertiser
           AND c.publisher_id = :publisher""",
    """INSERT INTO ledger_transactions (id, idempotency_key, reason, description, refs,
           fingerprint, created_at)
       SELECT c.hold_id, 'conversion:' || c.id || '\\:hold', 'conversion_hold', '',
           json_build_object('conversion', c.id, 'advertiser', :advertiser,
               'publisher', c.publisher_id),
           md5('hold-' || c.id), c.created_at
       FROM history_ids c
       UNION ALL
       SELECT c.settle_id, 'conversion:' || c.id || '\\:settle', CASE c.status
           WHEN 'approved' THEN 'conversion_approve' ELSE 'conversion_reject' END, '',
           json_build_object('conversion', c.id, 'advertiser', :advertiser,
               'publisher', c.publisher_id),
           md5('settle-' || c.id), c.decided_at
       FROM history_ids c""",
    """INSERT INTO ledger_postings (transaction_id, account_id, currency, amount)
       SELECT transaction_id, account, 'USD', amount FROM (
           SELECT c.hold_id, leg.account, leg.amount
           FROM history_ids c, LATERAL (VALUES (:escrow, -(c.payout + c.fee)), (:hold, c.payout),
               (:pending_fee, c.fee)) AS leg(account, amount)
           UNION ALL
           SELECT c.settle_id, leg.account, leg.amount
           FROM history_ids c, LATERAL (VALUES (:hold, -c.payout), (:available, c.payout),
               (:pending_fee, -c.fee), (:revenue, c.fee)) AS leg(account, amount)
           WHERE c.status = 'approved'
           UNION ALL
           SELECT c.settle_id, leg.account, leg.amount
           FROM history_ids c, LATERAL (VALUES (:hold, -c.payout), (:escrow, c.payout + c.fee),
               (:pending_fee, -c.fee)) AS leg(account, amount)
           WHERE c.status = 'rejected') AS legs(transaction_id, account, amount)
       WHERE amount <> 0""",
    "DROP TABLE history_ids",
)


def ledger_history(links: list[tuple[int, int, int, int]]) -> None:
    """The ledger transactions and postings of the history's conversions, as escrow.py writes
    them (two transactions and six or seven postings each), and the balances they leave.

    Without them the ledger tables held a few hundred rows when the seeding's VACUUM ANALYZE
    ran, so every cached plan on them (the deferred balance check, the foreign key checks, the
    idempotency key lookup) was a sequential scan, which grew slower with every posting of the
    measured run: a live network's ledger is the size of its history. The triggers are off
    while these rows go in (`session_replication_role`); the benchmark's `ledger check` then
    proves every one of them balanced and every balance equal to its postings."""
    from sqlalchemy import text

    from cpa_network.extensions import db
    from payouts import ledger
    from payouts.models import AccountKind as K

    db.session.execute(text("SET LOCAL session_replication_role = replica"))
    revenue = ledger.network_account(K.NETWORK_REVENUE, "USD").id
    for advertiser_id, publisher_id in {(link[2], link[3]) for link in links}:
        accounts = {"escrow": ledger.account(K.ADVERTISER_ESCROW, advertiser_id, "USD").id,
                    "hold": ledger.account(K.ADVERTISER_HOLD, advertiser_id, "USD").id,
                    "pending_fee": ledger.account(K.NETWORK_PENDING_FEE, advertiser_id,
                                                  "USD").id,
                    "available": ledger.account(K.PUBLISHER_AVAILABLE, publisher_id, "USD").id,
                    "revenue": revenue, "advertiser": advertiser_id, "publisher": publisher_id}
        db.session.flush()
        for statement in HISTORY_LEDGER:
            db.session.execute(text(statement), accounts)
    db.session.execute(text("""
        UPDATE ledger_accounts a SET balance = s.total
        FROM (SELECT account_id, sum(amount) AS total FROM ledger_postings GROUP BY account_id) s
        WHERE a.id = s.account_id"""))
    db.session.execute(text("SET LOCAL session_replication_role = origin"))


def vacuumed(database_url: str) -> None:
    """VACUUM ANALYZE after the seeding (after its commit), as autovacuum would have done on a
    live network long before: otherwise it starts during the measured run, and its CPU is
    counted as the postbacks'. Then a CHECKPOINT: the seeding writes hundreds of megabytes of
    WAL, and a checkpoint it set off could otherwise run during the measured run of this
    benchmark or the next one, whose every run should start from the same state.
    On a connection of its own, in autocommit (the app's begin a transaction at checkout)."""
    import psycopg

    from bench.scratch import psycopg_dsn

    dsn = psycopg_dsn(database_url)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
        connection.execute("CHECKPOINT")
