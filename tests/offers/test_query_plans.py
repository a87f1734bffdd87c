"""Plans that must hold once conversions pile up. psycopg prepares a statement it has run five
times, and PostgreSQL may then run it with a generic plan, made without the parameters' values:
a plan that is cheap on a new table must also be cheap on a full one."""

import re

from psycopg.sql import Literal
from sqlalchemy import func, select, text

from cpa_network.database import utcnow
from cpa_network.extensions import db
from cpa_network.notifications import services as notifications
from offers import attribution, fraud
from offers.conversion_models import HELD_UNDECIDED, Conversion
from tests.factories import make_user
from tests.offers.conversion_helpers import live_setup, postback_url

HISTORY = 4000  # conversions already stored, half of them approved


def _copies_of(conversion: Conversion, count: int,
               statuses: tuple[str, str] = ("approved", "pending")) -> None:
    """`count` conversions like `conversion`, each with its own id and txid, every other one
    of the first status, the rest of the second, and fresh statistics for the planner."""
    columns = [c.name for c in Conversion.__table__.columns]
    computed = {"id": "nextval('conversions_id_seq')", "txid": "'history-' || n",
                "status": f"CASE WHEN n % 2 = 0 THEN '{statuses[0]}' ELSE '{statuses[1]}' END",
                "click_once": "NULL"}
    db.session.execute(text(
        f"INSERT INTO conversions ({', '.join(columns)}) "
        f"SELECT {', '.join(computed.get(c, f'c.{c}') for c in columns)} "
        "FROM conversions c, generate_series(1, :count) AS n WHERE c.id = :id"),
        {"count": count, "id": conversion.id})
    db.session.execute(text("ANALYZE conversions"))


def _generic_plan(statement, params: dict) -> str:
    """EXPLAIN of `statement` run as a prepared statement with its generic plan."""
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect)
    names: list[str] = []

    def placeholder(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", placeholder, str(compiled))
    types = [compiled.binds[name].type.compile(dialect=connection.dialect) for name in names]
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
