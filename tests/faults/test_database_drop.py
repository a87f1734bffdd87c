"""The PostgreSQL connection dies in the middle of a money request: the request fails cleanly
(503, no traceback, nothing half-written) and the pool serves the next request.

The backend is killed with `pg_terminate_backend` from another connection at the statement
right after the approval's ledger write (its transaction row, postings and balances are written,
uncommitted), so the transaction really is cut in half on the server."""

import contextlib

import psycopg
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url

from cpa_network.extensions import db
from offers.conversion_models import Conversion
from payouts.models import LedgerTransaction
from tests.factories import make_api_key
from tests.offers.conversion_helpers import (
    assert_books_balance,
    conversions,
    live_setup,
    postback_url,
    stored_click,
)


@contextlib.contextmanager
def backend_killed_after(app, database_url: str, statement_start: str):
    """Terminate the backend (of `app`'s engine) that ran a statement starting with
    `statement_start`, just before its next statement; yields a list that gets the pid."""
    killed: list[int] = []
    armed: list[int] = []
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)

    def kill(_conn, cursor, statement, *_args):
        pid = cursor.connection.info.backend_pid
        if killed:
            return
        if pid not in armed:
            if statement.lstrip().upper().startswith(statement_start):
                armed.append(pid)
            return
        with psycopg.connect(dsn, autocommit=True) as admin:
            # The timeout makes it wait until the backend is gone, so the statement meets it.
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        killed.append(pid)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", kill)
    try:
        yield killed
    finally:
        event.remove(engine, "before_cursor_execute", kill)


def settle_keys() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.idempotency_key.like("conversion:%:settle"))))


@pytest.mark.parametrize("via", ["api", "page"])
def test_a_connection_killed_mid_approval_fails_cleanly_and_the_pool_recovers(
        app, client, app_context, database_url, via):
    offer, link, _click = live_setup()
    for n in range(2):
        client.get(postback_url(offer, stored_click(link, ip=f"5.18.3.{n}"), txid=f"D-{n}"))
    first, second = conversions()
    if via == "api":
        auth = {"Authorization": f"Bearer {make_api_key(offer.advertiser)}"}

        def approve(conversion_id):
            return client.post(f"/api/v1/conversions/{conversion_id}/approve", headers=auth)
    else:
        client.login(offer.advertiser.email)

        def approve(conversion_id):
            return client.submit(f"/advertiser/conversions/{conversion_id}/decide",
                                 {"approve": "Approve", "confirmed": "yes"},
                                 page=f"/advertiser/conversions/{conversion_id}")

    with backend_killed_after(app, database_url, "SELECT * FROM LEDGER_POST") as killed:
        failed = approve(first.id)
    assert killed, "the approval never wrote to the ledger"
    body = failed.get_data(as_text=True)
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "1"
    assert "Traceback" not in body and "psycopg" not in body and "INSERT" not in body
    if via == "api":
        assert failed.get_json()["error"]["code"] == "database_unavailable"
    else:
        assert "briefly unavailable" in body
    # Nothing of the cut transaction stayed: no settlement, the conversion still pending.
    assert settle_keys() == []
    assert [c.status for c in conversions()] == ["pending", "pending"]
    assert_books_balance()

    # The pool dropped the dead connection: the same request now goes through.
    assert approve(first.id).status_code in (200, 302)
    # Every idle pooled connection dies too (a database restart): pre-ping replaces them.
    db.session.remove()
    with db.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    assert approve(second.id).status_code in (200, 302)
    assert [c.status for c in conversions()] == ["approved", "approved"]
    assert sorted(settle_keys()) == sorted(f"conversion:{c.id}:settle" for c in (first, second))
    assert db.session.scalar(select(Conversion.status).where(Conversion.id == first.id)) \
        == "approved"
    assert_books_balance()
