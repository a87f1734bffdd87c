"""Plans that must hold once conversions pile up. psycopg prepares a statement it has run five
times, and PostgreSQL may then run it with a generic plan, made without the parameters' values:
a plan that is cheap on a new table must also be cheap on a full one."""

import re

from psycopg.sql import Literal
from sqlalchemy import event, func, select, text

from cpa_network.accounts.models import User
from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.notifications import services as notifications
from offers import attribution, catalog, fraud, review
from offers.conversion_models import HELD_UNDECIDED, Conversion
from offers.conversion_views import PAGE_SIZE
from offers.tracking_models import TrafficHourly
from publishers import exchange_browse, exchange_listing
from publishers.exchange_models import Lot, LotSale
from tests.factories import make_user
from tests.offers.conversion_helpers import live_setup, postback_url, stored_click
from tests.publishers.exchange_helpers import add_traffic, sold

HISTORY = 4000  # conversions already stored, half of them approved


def _copies_of(conversion: Conversion, count: int,
               statuses: tuple[str, str] = ("approved", "pending"), **expressions: str) -> None:
    """`count` conversions like `conversion`, each with its own id and txid, every other one
    of the first status, the rest of the second, other columns from `expressions` (SQL of the
    copy's number `n`), and fresh statistics for the planner."""
    computed = {"id": "nextval('conversions_id_seq')", "txid": "'history-' || n",
                "status": f"CASE WHEN n % 2 = 0 THEN '{statuses[0]}' ELSE '{statuses[1]}' END",
                "click_once": "NULL", **expressions}
    db.session.execute(text(
        _insert_copies(Conversion, "c", computed)
        + " FROM conversions c, generate_series(1, :count) AS n WHERE c.id = :id"),
        {"count": count, "id": conversion.id})
    db.session.execute(text("ANALYZE conversions"))


def _insert_copies(model, source: str, expressions: dict[str, str]) -> str:
    """`INSERT INTO <model's table> SELECT …` each column as in the row `source` names, but
    those `expressions` gives (SQL); the FROM is the caller's."""
    columns = [c.name for c in model.__table__.columns]
    return (f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) SELECT "
            + ", ".join(expressions.get(c, f"{source}.{c}") for c in columns))


def _custom_plan(statement) -> str:
    """EXPLAIN of `statement` with its parameters' values written in."""
    compiled = statement.compile(dialect=db.session.connection().dialect,
                                 compile_kwargs={"literal_binds": True})
    return "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))


def _generic_plan(statement, params: dict) -> str:
    """EXPLAIN of `statement` run as a prepared statement with its generic plan."""
    connection = db.session.connection()
    # An IN list is sent as one parameter per value (`status_1_1`, `status_1_2`), as the app does.
    compiled = statement.compile(dialect=connection.dialect,
                                 compile_kwargs={"render_postcompile": True})
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, str(compiled))
    binds = [compiled.binds[name if name in compiled.binds else name.rpartition("_")[0]]
             for name in names]
    types = [bind.type.compile(dialect=connection.dialect) for bind in binds]
    values = {**compiled.params, **params}
    connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
    signature = f"({', '.join(types)})" if types else ""
    connection.exec_driver_sql(f"PREPARE generic_plan {signature} AS {sql}")
    driver = connection.connection.driver_connection
    arguments = ", ".join(f"{Literal(values[name]).as_string(driver)}::{type_}"
                          for name, type_ in zip(names, types, strict=True))
    call = f"generic_plan({arguments})" if arguments else "generic_plan"
    plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN EXECUTE {call}"))
    connection.exec_driver_sql("DEALLOCATE generic_plan")  # it outlives the transaction
    return plan


def test_the_facts_of_a_postback_never_scan_every_conversion(client, app_context):
    offer, _link, click = live_setup()
    answer = client.get(postback_url(offer, click, txid="FIRST"))
    assert answer.json["status"] == "ok", answer.json
    _copies_of(db.session.scalar(select(Conversion).where(Conversion.txid == "FIRST")), HISTORY)
    params = {"publisher_id": 1, "advertiser_id": offer.advertiser_id,
              "currency": offer.currency, "offer_id": offer.id, "goal": "registration",
              "txid": "NEW", "click": None, **fraud.fact_params(None, utcnow())}
    plan = _generic_plan(attribution.FACTS_AND_ID.statement, params)
    assert "Seq Scan on conversions" not in plan, plan


def test_the_fraud_queue_never_scans_every_conversion(client, app_context):
    """Counted on every operator dashboard view, listed on the fraud queue page."""
    offer, _link, click = live_setup()
    assert client.get(postback_url(offer, click, txid="FIRST")).json["status"] == "ok"
    _copies_of(db.session.scalar(select(Conversion).where(Conversion.txid == "FIRST")),
               10 * HISTORY, ("approved", "rejected"))  # decided, as nearly all are
    plan = _generic_plan(select(func.count(Conversion.id)).where(*HELD_UNDECIDED), {})
    assert "Seq Scan on conversions" not in plan, plan


def test_a_batch_of_notifications_looks_up_its_own_users_keys_only(app_context):
    """notify_many runs for every batch of paid payouts; with the keys alone its lookup read
    every notification of every user."""
    user = make_user("publisher")
    db.session.execute(text(
        "INSERT INTO notifications (user_id, kind, params, dedupe_key, created_at) "
        "SELECT :user, 'payout_paid', '{}', 'payout_paid:' || n, now() "
        "FROM generate_series(1, :count) AS n"), {"user": user.id, "count": HISTORY})
    db.session.execute(text("ANALYZE notifications"))
    statement = notifications.existing_keys({(user.id, "payout_paid:new-1"),
                                             (user.id, "payout_paid:new-2")})
    compiled = statement.compile(dialect=db.session.connection().dialect,
                                 compile_kwargs={"literal_binds": True})
    plan = "\n".join(row[0] for row in db.session.execute(text(f"EXPLAIN {compiled}")))
    assert "Seq Scan on notifications" not in plan, plan


def test_a_goal_after_a_goal_looks_up_the_click_and_the_customer_by_index(client, app_context):
    """Asked on every conversion of a goal that requires an earlier one (a first payment after
    a registration); with one OR over the click and the customer it read every conversion of
    the offer."""
    offer, _link, click = live_setup()
    assert client.get(postback_url(offer, click, txid="FIRST")).json["status"] == "ok"
    _copies_of(db.session.scalar(select(Conversion).where(Conversion.txid == "FIRST")),
               HISTORY, ("approved", "rejected"), click_id="'history-click-' || n",
               customer="'customer-' || n")
    for click_id, customer in ((click, "customer-8"), (click, ""), (None, "customer-8")):
        statement = attribution.earlier_goal_reached(offer.id, "registration", click_id,
                                                     customer)
        assert db.session.scalar(statement)
        for kind, plan in (("custom", _custom_plan(statement)),
                           ("generic", _generic_plan(statement, {}))):
            assert "Seq Scan on conversions" not in plan, f"{kind} plan:\n{plan}"
            assert not customer or "ix_conversions_offer_goal_customer" in plan, \
                f"{kind} plan:\n{plan}"
    # A rejected conversion does not count; with neither key there is nothing to ask.
    assert not db.session.scalar(
        attribution.earlier_goal_reached(offer.id, "registration", None, "customer-7"))
    assert attribution.earlier_goal_reached(offer.id, "registration", None, "") is None


def _statements_of(call) -> list:
    """The ORM statements `call()` runs, as the app builds them, in order."""
    seen = []
    session = db.session()

    def keep(state) -> None:
        seen.append(state.statement)

    event.listen(session, "do_orm_execute", keep)
    try:
        call()
    finally:
        event.remove(session, "do_orm_execute", keep)
    return seen


def _statement_of(call):
    """The one ORM statement `call()` runs, as the app builds it."""
    [statement] = _statements_of(call)
    return statement


def _referral_copies() -> str:
    """`WITH referrals AS (...)`: :count copies of the :referral user, each with its own id,
    email and referral code, returning their ids."""
    return ("WITH referrals AS ("
            + _insert_copies(User, "u", {"id": "nextval('users_id_seq')",
                                         "email": "'copy-' || n || '@example.com'",
                                         "referral_code": "'copy-' || n"})
            + " FROM users u, generate_series(1, :count) AS n WHERE u.id = :referral"
            " RETURNING id)")


def test_a_referrals_unsettled_sale_is_looked_up_by_index(app_context):
    """Read for every referral on each /exchange/sell view; without an index on the referral it
    read every unsettled sale of the exchange (every sale, with its generic plan)."""
    sale_id, _seller, referral, _buyer = sold()
    sale = db.session.get(LotSale, sale_id)
    # HISTORY more referrals, sold once each, every tenth still in its guarantee period.
    db.session.execute(text(
        _referral_copies() + ", lots AS ("
        + _insert_copies(Lot, "l", {"id": "nextval('exchange_lots_id_seq')",
                                    "referral_id": "r.id", "status": "'sold'"})
        + " FROM exchange_lots l, referrals r WHERE l.id = :lot RETURNING id, referral_id) "
        + _insert_copies(LotSale, "s", {
            "id": "nextval('exchange_sales_id_seq')", "lot_id": "lots.id",
            "referral_id": "lots.referral_id",
            "status": "CASE WHEN lots.id % 10 = 0 THEN 'in_guarantee' ELSE 'released' END"})
        + " FROM exchange_sales s, lots WHERE s.id = :sale"),
        {"count": HISTORY, "referral": referral.id, "lot": sale.lot_id, "sale": sale.id})
    for table in ("users", "exchange_lots", "exchange_sales"):
        db.session.execute(text(f"ANALYZE {table}"))
    assert exchange_listing.unsettled_sale_of(referral.id).id == sale.id
    statement = _statement_of(lambda: exchange_listing.unsettled_sale_of(referral.id))
    for kind, plan in (("custom", _custom_plan(statement)),
                       ("generic", _generic_plan(statement, {}))):
        assert "Seq Scan on exchange_sales" not in plan, f"{kind} plan:\n{plan}"
        assert "ix_exchange_sales_referral_status" in plan, f"{kind} plan:\n{plan}"


def test_the_status_filtered_review_list_reads_that_status_by_index(client, app_context):
    """The advertiser's review page (and its count) filtered to the few undecided conversions
    of a long decided history. The statistics rarely see so few rows; with the status a
    parameter the generic plan guessed half the conversions and read them all."""
    offer, link, click = live_setup()
    assert client.get(postback_url(offer, click, txid="FIRST")).json["status"] == "ok"
    first = db.session.scalar(select(Conversion).where(Conversion.txid == "FIRST"))
    # Decided (crafted: the plan is the point, not the money), then copied and ANALYZEd.
    db.session.execute(text("UPDATE conversions SET status = 'rejected' WHERE id = :id"),
                       {"id": first.id})
    _copies_of(first, 10 * HISTORY, ("approved", "rejected"))
    db.session.commit()
    answer = client.get(postback_url(offer, stored_click(link), txid="NEW"))
    assert answer.json["conversion_status"] == "pending", answer.json  # held for review, as may be
    for status in ("pending", "awaiting_funds"):
        query = review.advertiser_query(offer.advertiser_id, review.ReviewFilter(status=status))
        statements = _statements_of(
            lambda q=query: db.paginate(q, page=1, per_page=PAGE_SIZE, error_out=False))
        assert len(statements) == 2  # the page and its count
        for statement in statements:
            for kind, plan in (("custom", _custom_plan(statement)),
                               ("generic", _generic_plan(statement, {}))):
                assert "Seq Scan on conversions" not in plan, f"{status} {kind} plan:\n{plan}"


def test_the_exchange_browse_reads_listed_lots_by_index(app_context):
    """Every /exchange view reads the listed lots, a few among every lot ever sold. The status
    is a parameter; its generic plan still reads ix_exchange_lots_status_listed, not every lot
    (a guard: this held before the other fixes too)."""
    sale_id, _seller, referral, _buyer = sold()
    sale = db.session.get(LotSale, sale_id)
    # Built before the history: with a listed lot, browse also reads each lot's summary.
    statement = _statement_of(lambda: exchange_browse.browse(exchange_browse.BrowseQuery()))
    # 10 * HISTORY more referrals, each sold or withdrawn once, every fiftieth still listed.
    db.session.execute(text(
        _referral_copies() + " " + _insert_copies(Lot, "l", {
            "id": "nextval('exchange_lots_id_seq')", "referral_id": "r.id",
            "status": "CASE WHEN r.id % 50 = 0 THEN 'listed' "
                      "WHEN r.id % 3 = 0 THEN 'withdrawn' ELSE 'sold' END"})
        + " FROM exchange_lots l, referrals r WHERE l.id = :lot"),
        {"count": 10 * HISTORY, "referral": referral.id, "lot": sale.lot_id})
    for table in ("users", "exchange_lots"):
        db.session.execute(text(f"ANALYZE {table}"))
    for kind, plan in (("custom", _custom_plan(statement)),
                       ("generic", _generic_plan(statement, {}))):
        assert "Seq Scan on exchange_lots" not in plan, f"{kind} plan:\n{plan}"


def test_the_catalog_reads_only_the_last_30_days_of_rollups(app_context):
    """The catalog sorted by EPC or CR sums each offer's last 30 days of hourly rollups, which
    are kept forever. With the cutoff hour as a parameter the generic plan, which cannot know
    how recent it is, read every rollup row ever written."""
    publisher = make_user("publisher")
    for _ in range(2):
        add_traffic(publisher, clicks=200)
    # Two years of older hours of the first offer's link, all before the 30 days.
    db.session.execute(text(
        _insert_copies(TrafficHourly, "t", {
            "id": "nextval('traffic_hourly_id_seq')",
            "hour": "t.hour - (30 * 24 + n) * interval '1 hour'"})
        + " FROM traffic_hourly t, generate_series(1, :count) AS n"
          " WHERE t.id = (SELECT min(id) FROM traffic_hourly)"),
        {"count": 2 * 365 * 24})
    db.session.execute(text("ANALYZE traffic_hourly"))
    for sort in ("epc", "cr"):
        query = catalog.CatalogQuery(sort=sort)
        pages = []
        statements = _statements_of(
            lambda q=query, found=pages: found.append(catalog.search_catalog(publisher, q)))
        [(page, metrics)] = pages
        assert page.total == 2
        assert [m.valid_clicks for m in metrics.values()] == [200, 200]
        statements = [s for s in statements if "traffic_hourly" in str(s)]
        assert len(statements) == 3  # the page, its count, its offers' metrics
        for statement in statements:
            for kind, plan in (("custom", _custom_plan(statement)),
                               ("generic", _generic_plan(statement, {}))):
                assert "Seq Scan on traffic_hourly" not in plan, f"{sort} {kind} plan:\n{plan}"
