"""The floor under bench/postbacks.py: the postback's SQL behind the same gunicorn and wrk, with
nothing else.

    .venv/bin/python bench/postbacks_floor.py [--seconds 10] [--workers 4] [--clients 8]

It prepares the database of bench/postbacks.py and records the statements one real postback
runs (as bench/postbacks_sql.py does). Then it serves `GET /postback` from a bare WSGI function
in this file under gunicorn, loaded by wrk exactly as bench/postbacks.py loads the app (8
connections, 10 % duplicates). Each request runs the recorded statements on one psycopg
connection per worker: the click, the offer's version, the facts, the conversion insert,
`ledger_post`, the rollup, the log line, then the commit, and answers a small JSON body. There
are no rules, no rate limit, no Flask, no SQLAlchemy and no ORM.

What it reaches is the most any implementation of today's statements could reach through HTTP
on this machine; the app's own benchmark can only come in under it.
"""

import argparse
import json
import os
import pickle
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_worker: dict = {}  # per gunicorn worker: its pid, connection, statements, advertisers


def _state() -> dict:
    """This worker's connection and the recorded statements (opened on its first request)."""
    if _worker.get("pid") != os.getpid():
        import psycopg
        from psycopg.rows import dict_row

        conn = psycopg.connect(os.environ["FLOOR_DSN"], row_factory=dict_row)
        # written by this benchmark into its own temporary directory, read by its own workers
        statements = pickle.loads(  # noqa: S301
            Path(os.environ["FLOOR_STATEMENTS"]).read_bytes())
        with conn.cursor() as cur:
            cur.execute("SELECT id, advertiser_id FROM offers")
            advertisers = {row["id"]: row["advertiser_id"] for row in cur.fetchall()}
        conn.commit()
        _worker.update(pid=os.getpid(), conn=conn, statements=statements,
                       advertisers=advertisers)
    return _worker


def _record(params: dict) -> tuple[str, int | None]:
    """One postback's statements in one transaction: ("ok" | "duplicate", conversion id)."""
    from psycopg.types.json import Json

    from offers.tracking import click_ms

    state = _state()
    conn, advertisers = state["conn"], state["advertisers"]
    (click_sql, _), (offer_sql, _), (facts_sql, facts), (insert_sql, insert), \
        (ledger_sql, ledger), (rollup_sql, rollup), (log_sql, log) = state["statements"]
    click_id, txid = params["click_id"], params["txid"]
    at = datetime.fromtimestamp(click_ms(click_id) / 1000, UTC)
    now = datetime.now(UTC)
    with conn.cursor() as cur:
        cur.execute(click_sql, {"click_id": click_id, "after": at - timedelta(seconds=1),
                                "before": at + timedelta(seconds=1)})
        click = cur.fetchone()
        offer_id, publisher_id = click["offer_id"], click["publisher_id"]
        advertiser_id = advertisers[offer_id]
        cur.execute(offer_sql, {"offer_id": offer_id})
        cur.fetchall()
        cur.execute(facts_sql, {**facts, "offer_id": offer_id, "txid": txid,
                                "publisher_id": publisher_id, "advertiser_id": advertiser_id,
                                "ip_hash": click["ip_hash"],
                                "login_since": now - timedelta(days=180),
                                "velocity_since": now - timedelta(days=1)})
        found = list(cur.fetchone().values())
        code, conversion_id = "duplicate", found[0]
        if conversion_id is None:
            escrow, hold, fee = found[-3:]
            until = now + timedelta(days=14)
            cur.execute(insert_sql, {
                **insert, "offer_id": offer_id, "link_id": click["link_id"],
                "advertiser_id": advertiser_id, "click_id": click_id,
                "publisher_id": publisher_id, "txid": txid, "ip_hash": click["ip_hash"],
                "clicked_at": click["clicked_at"], "created_at": now, "hold_until": until})
            inserted = cur.fetchone()
            if inserted is None:  # a concurrent identical postback won
                conn.rollback()
                return "duplicate", None
            code, conversion_id = "ok", inserted["id"]
            refs = {"conversion": conversion_id, "advertiser": advertiser_id,
                    "publisher": publisher_id, "available_at": until.isoformat()}
            cur.execute(ledger_sql, (f"conversion:{conversion_id}:hold", ledger[1], ledger[2],
                                     json.dumps(refs), ledger[4], now, [escrow, hold, fee],
                                     *ledger[7:]))
            if cur.fetchall()[0]["outcome"] != "posted":
                raise RuntimeError("the hold was not posted")
            cur.execute(rollup_sql, {**rollup, "hour": now.replace(minute=0, second=0,
                                                                    microsecond=0),
                                     "link_id": click["link_id"], "offer_id": offer_id,
                                     "publisher_id": publisher_id})
        cur.execute(log_sql, {**log, "received_at": now, "offer_id": offer_id, "code": code,
                              "conversion_id": conversion_id,
                              "params": Json({"click_id": click_id, "goal": "order",
                                              "txid": txid, "secret": "***"})})
    conn.commit()
    return code, conversion_id


def application(environ, start_response):
    """gunicorn's entry point: `GET /postback?click_id=..&txid=..` and nothing else."""
    params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    try:
        code, conversion_id = _record(params)
    except Exception as error:  # answered 500: the benchmark counts it as "other"
        if "conn" in _worker:
            _worker["conn"].rollback()
        body = json.dumps({"status": "error", "message": str(error)}).encode()
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")])
        return [body]
    body = json.dumps({"status": code, "conversion_id": conversion_id}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def main() -> int:
    from sqlalchemy.engine import make_url

    from bench.postbacks import TARGET_PER_S, prepared, serve_and_load
    from bench.postbacks_sql import record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with prepared("cpa_bench_floor", 8) as (env, clicks_file, secret, started):
        statements_file = clicks_file.with_name("statements.pickle")
        statements_file.write_bytes(pickle.dumps(record(env, clicks_file, secret)))
        dsn = make_url(env["DATABASE_URL"]).set(drivername="postgresql").render_as_string(
            hide_password=False)
        figures, meter, stored, twice, ledger_ok = serve_and_load(
            "bench.postbacks_floor:application",
            dict(env, FLOOR_DSN=dsn, FLOOR_STATEMENTS=str(statements_file)), clicks_file,
            secret, started, args)
        rate = figures["ok"] / figures["seconds"]
        print(f"postback floor: the recorded statements behind gunicorn {args.workers} sync "
              f"workers and wrk, {args.clients} clients, {args.seconds} s; 10 % duplicates; no "
              "rules, rate limit, Flask or SQLAlchemy")
        print(f"  requests {figures['requests']:,}: accepted {figures['ok']:,}, duplicates "
              f"refused {figures['duplicate']:,} of {figures['sent_dupes']:,} sent, other "
              f"{figures['other']}, socket errors {figures['errors']}")
        print(f"  accepted postbacks/s: {rate:,.0f} (the app's target: >= {TARGET_PER_S}); "
              f"p50 {figures['p50_us'] / 1000:.1f} ms, p99 {figures['p99_us'] / 1000:.1f} ms")
        print(f"  CPU per accepted postback: {meter.per(figures['ok'])}")
        print(f"  conversions stored by the run: {stored:,}; txids stored twice: "
              f"{twice}; ledger check: {'OK' if ledger_ok else 'FAILED'}")
        good = twice == 0 and ledger_ok and figures["other"] == 0
        return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
