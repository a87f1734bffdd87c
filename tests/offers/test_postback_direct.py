"""The plain postback in three round trips (offers.postback_direct): it writes what the full
path writes, hands over what it does not write itself before writing anything, and counts a
call against the rate limit once."""

import threading

import pytest
from sqlalchemy import event, func, select

from cpa_network.database import utcnow
from cpa_network.extensions import db
from offers import attribution, postback_direct
from offers.conversion_models import AWAITING_FUNDS, Conversion, PostbackLog
from offers.funding import network_fee
from payouts.models import LedgerAccount, LedgerTransaction
from tests.offers.conversion_helpers import (
    assert_books_balance,
    conversions,
    live_setup,
    postback_url,
    stored_click,
)

PAYOUT = 10_00  # live_setup's registration goal


@pytest.fixture
def statements(app):
    """The statements each engine ran: the autocommit one's and the session's."""
    seen = {"direct": [], "session": []}
    engines = {"direct": postback_direct._engine(app)}
    with app.app_context():
        engines["session"] = db.engine

    def listener(name):
        return lambda _c, _cur, sql, _p, _ctx, _many: seen[name].append(sql)

    listeners = [(engine, listener(name)) for name, engine in engines.items()]
    for engine, spy in listeners:
        event.listen(engine, "before_cursor_execute", spy)
    yield seen
    for engine, spy in listeners:
        event.remove(engine, "before_cursor_execute", spy)


def hand_over(*_args, **_kwargs):
    raise postback_direct.FullPath(counted=False)


@pytest.fixture
def full_path_only(monkeypatch):
    """Every call takes the full path, as it did before the direct one existed."""
    monkeypatch.setattr(postback_direct, "receive", hand_over)


def pinned(monkeypatch):
    now = utcnow()
    for module in ("offers.attribution", "offers.postbacks", "payouts.ledger",
                   "offers.postback_direct"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now)


def first_postback(client, offer, link) -> None:
    """The advertiser's first conversion: it creates the hold accounts (on the full path)."""
    answer = client.get(postback_url(offer, stored_click(link), txid="FIRST"))
    assert answer.json["status"] == "ok", answer.json


def test_a_plain_postback_takes_three_statements_and_none_on_the_session(
        client, app_context, statements):
    offer, link, _click = live_setup()
    first_postback(client, offer, link)
    statements["direct"].clear()
    statements["session"].clear()
    answer = client.get(postback_url(offer, stored_click(link), txid="D-1"))
    assert answer.status_code == 200 and answer.json["status"] == "ok", answer.json
    assert len(statements["direct"]) == 3, statements["direct"]
    assert "conversion_record" in statements["direct"][-1]
    assert statements["session"] == []
    assert_books_balance()


def test_a_duplicate_takes_three_statements_and_names_its_original(
        client, app, app_context, statements):
    offer, link, _click = live_setup()
    first_postback(client, offer, link)
    url = postback_url(offer, stored_click(link), txid="D-2")
    original = client.get(url).json
    statements["direct"].clear()
    answer = client.get(url)
    assert answer.status_code == 200, answer.json
    assert answer.json == {**original, "status": "duplicate",
                           "message": answer.json["message"]}  # same id and status
    assert answer.json["conversion_status"] == "pending"
    assert len(statements["direct"]) == 3, statements["direct"]  # click, facts, log line
    assert "postback_log" in statements["direct"][-1]
    assert_books_balance()


def _written(conversion: Conversion) -> dict:
    """What one postback wrote, less what differs by nature between two (ids, txid, click)."""
    row = {c.key: getattr(conversion, c.key) for c in Conversion.__table__.c
           if c.key not in ("id", "txid", "click_id", "click_once", "clicked_at")}
    hold = db.session.scalar(select(LedgerTransaction).where(
        LedgerTransaction.idempotency_key == f"conversion:{conversion.id}:hold"))
    kinds = {account.id: account.kind for account in db.session.scalars(select(LedgerAccount))}
    refs = dict(hold.refs)
    assert refs.pop("conversion") == conversion.id
    log = db.session.scalar(select(PostbackLog).where(
        PostbackLog.conversion_id == conversion.id))
    params = {k: v for k, v in log.params.items() if k not in ("txid", "click_id")}
    return {"row": row, "hold": (hold.reason, hold.description, refs, sorted(
        (kinds[p.account_id], p.amount) for p in hold.postings)),
        "log": (log.offer_id, log.source, log.method, params, log.remote_prefix, log.code,
                log.http_status, log.message, log.received_at)}


@pytest.mark.parametrize("fraud", [False, True], ids=["ok", "fraud_suspected"])
def test_it_writes_what_the_full_path_writes(client, app, app_context, monkeypatch, fraud):
    offer, link, _click = live_setup()
    first_postback(client, offer, link)
    pinned(monkeypatch)
    if fraud:  # every conversion from one address counts as a velocity signal
        monkeypatch.setitem(app.config, "FRAUD_IP_CONVERSIONS", 1)
    direct = client.get(postback_url(offer, stored_click(link), txid="DIRECT"))
    with monkeypatch.context() as only_full:
        only_full.setattr(postback_direct, "receive", hand_over)
        full = client.get(postback_url(offer, stored_click(link), txid="FULL"))
    expected = "fraud_suspected" if fraud else "ok"
    assert direct.json["status"] == full.json["status"] == expected
    assert {k: v for k, v in direct.json.items() if k != "conversion_id"} == \
        {k: v for k, v in full.json.items() if k != "conversion_id"}
    by_txid = {c.txid: c for c in conversions()}
    assert direct.json["conversion_id"] == by_txid["DIRECT"].id
    assert _written(by_txid["DIRECT"]) == _written(by_txid["FULL"])
    assert_books_balance()  # the rollups equal a recount, the ledger check passes


def test_short_escrow_is_handed_over_with_nothing_written(client, app_context, statements):
    offer, link, _click = live_setup(escrow=PAYOUT + network_fee(PAYOUT))  # one conversion
    first_postback(client, offer, link)
    statements["direct"].clear()
    answer = client.get(postback_url(offer, stored_click(link), txid="SHORT"))
    assert answer.json["status"] == "insufficient_funds", answer.json
    assert any("conversion_record" in sql for sql in statements["direct"])  # it was tried
    found = [c for c in conversions() if c.txid == "SHORT"]
    assert len(found) == 1 and found[0].status == AWAITING_FUNDS
    assert found[0].id == answer.json["conversion_id"]
    logged = db.session.scalars(select(PostbackLog.code).where(
        PostbackLog.conversion_id == found[0].id)).all()
    assert logged == ["insufficient_funds"]
    assert_books_balance()


def test_a_duplicate_that_commits_between_the_facts_and_the_write_is_answered_as_one(
        client, app_context, monkeypatch):
    offer, link, click_id = live_setup()
    first_postback(client, offer, link)
    original = client.get(postback_url(offer, click_id, txid="RACE")).json
    real = attribution.FACTS_AND_ID

    class FactsBeforeTheOriginalCommitted:
        def first(self, params, connection=None):
            return real.first(params, connection)._replace(duplicate_id=None)

    monkeypatch.setattr(attribution, "FACTS_AND_ID", FactsBeforeTheOriginalCommitted())
    again = client.get(postback_url(offer, click_id, txid="RACE"))
    assert again.status_code == 200
    assert again.json["status"] == "duplicate"
    assert again.json["conversion_id"] == original["conversion_id"]
    assert [c.txid for c in conversions()].count("RACE") == 1
    codes = db.session.scalars(select(PostbackLog.code).where(
        PostbackLog.conversion_id == original["conversion_id"]).order_by(PostbackLog.id)).all()
    assert codes == ["ok", "duplicate"]
    assert_books_balance()


def test_a_handed_over_call_counts_once_against_the_rate_limit(client, app, app_context,
                                                               monkeypatch):
    offer, link, click_id = live_setup()
    monkeypatch.setitem(app.config, "RATELIMIT_POSTBACK", "1 per minute")
    # the advertiser's first conversion: no hold accounts yet, so it is handed over
    answer = client.get(postback_url(offer, click_id, txid="ONCE"))
    assert answer.json["status"] == "ok", answer.json
    second = client.get(postback_url(offer, stored_click(link), txid="TWICE"))
    assert second.status_code == 429


def test_the_full_path_alone_still_records(client, app_context, full_path_only, statements):
    offer, link, _click = live_setup()
    first_postback(client, offer, link)
    answer = client.get(postback_url(offer, stored_click(link), txid="F-1"))
    assert answer.json["status"] == "ok"
    assert statements["direct"] == []
    assert db.session.scalar(select(func.count()).select_from(Conversion)) == 2
    assert_books_balance()


def test_postbacks_reuse_one_connection_and_one_that_saw_an_error_goes_back(
        client, app, app_context, monkeypatch):
    monkeypatch.setitem(app.config, "FRAUD_IP_CONVERSIONS", 100)  # six from one address
    offer, link, _click = live_setup()
    first_postback(client, offer, link)
    engine = postback_direct._engine(app)
    checkouts, used = [], []

    def checkout(_dbapi, _record, _proxy):
        checkouts.append(1)

    def broken(connection, *_args):
        used.append(connection)
        raise RuntimeError("the lane broke")

    event.listen(engine, "checkout", checkout)
    try:
        for n in range(3):
            answer = client.get(postback_url(offer, stored_click(link), txid=f"KEPT-{n}"))
            assert answer.json["status"] == "ok", answer.json
        assert len(checkouts) == 0  # the first postback's connection, kept
        with monkeypatch.context() as lane:
            lane.setattr(postback_direct, "_record", broken)
            answer = client.get(postback_url(offer, stored_click(link), txid="BROKE"))
        assert answer.json["status"] == "ok", answer.json  # Flask answered on the full path
        assert used[0].closed and used[0] not in app.extensions[postback_direct._IDLE]
        answer = client.get(postback_url(offer, stored_click(link), txid="AFTER"))
        assert answer.json["status"] == "ok", answer.json
        assert len(checkouts) <= 1  # another kept one, or a fresh one from the pool
    finally:
        event.remove(engine, "checkout", checkout)
    assert sorted(c.txid for c in conversions()) == \
        ["AFTER", "BROKE", "FIRST", "KEPT-0", "KEPT-1", "KEPT-2"]
    assert_books_balance()


def test_a_thread_per_request_leaves_no_connection_behind(client, app, app_context,
                                                            monkeypatch):
    """A server that starts a thread per request (werkzeug's threaded one): the kept
    connections are the app's, not a thread's, so none stays checked out when a thread ends."""
    monkeypatch.setitem(app.config, "FRAUD_IP_CONVERSIONS", 100)
    offer, link, _click = live_setup()
    first_postback(client, offer, link)
    urls = [postback_url(offer, stored_click(link), txid=f"THREAD-{n}") for n in range(16)]
    answers = []
    for url in urls:
        thread = threading.Thread(target=lambda url=url: answers.append(client.get(url).json))
        thread.start()
        thread.join()
    assert [answer["status"] for answer in answers] == ["ok"] * len(urls), answers
    assert postback_direct._engine(app).pool.checkedout() <= postback_direct.KEEP_IDLE
