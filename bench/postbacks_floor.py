"""The floor under bench/postbacks.py: the postback's SQL behind the same server and wrk, with
nothing else.

    .venv/bin/python bench/postbacks_floor.py [--seconds 10] [--workers 2] [--threads 4]
                                              [--clients 8]

It prepares the database of bench/postbacks.py and records the statements one real postback
runs (as bench/postbacks_sql.py does: offers/postback_direct.py's three round trips). Then it
serves `GET /postback` from a bare WSGI function in this file under granian, loaded by wrk
exactly as bench/postbacks.py loads the app (8 connections, 10 % duplicates). Each request
runs the recorded statements on one psycopg connection per server thread, in autocommit: the
click with its offer's version, the facts with the new conversion's id, and
`conversion_record` (a duplicate: its log line instead), and answers a small JSON body. There
are no rules, no rate limit, no Flask, no SQLAlchemy and no ORM.

What it reaches is the most any implementation of today's statements could reach through HTTP
on this machine; the app's own benchmark can only come in under it.
"""

import argparse
import functools
import json
import os
import pickle
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.postbacks_sql import one_postback, record  # noqa: E402

_thread = threading.local()  # per server thread: its connection


@functools.cache
def _recorded() -> tuple[list, dict[int, int]]:
    """The recorded statements and each offer's advertiser, read once per server process."""
    import psycopg

    # written by this benchmark into its own temporary directory, read by its own workers
    statements = pickle.loads(Path(os.environ["FLOOR_STATEMENTS"]).read_bytes())  # noqa: S301
    with psycopg.connect(os.environ["FLOOR_DSN"]) as conn:
        advertisers = dict(conn.execute("SELECT id, advertiser_id FROM offers").fetchall())
    return statements, advertisers


def _connection():
    """This thread's connection, in autocommit (opened on its first request)."""
    if getattr(_thread, "conn", None) is None:
        import psycopg
        from psycopg.rows import dict_row

        _thread.conn = psycopg.connect(os.environ["FLOOR_DSN"], row_factory=dict_row,
                                       autocommit=True)
    return _thread.conn


def application(environ, start_response):
    """The server's entry point: `GET /postback?click_id=..&txid=..` and nothing else."""
    params = dict(parse_qsl(environ.get("QUERY_STRING", "")))
    try:
        statements, advertisers = _recorded()
        code, conversion_id = one_postback(_connection(), statements, advertisers,
                                           params["click_id"], params["txid"])
    except Exception as error:  # answered 500: the benchmark counts it as "other"
        body = json.dumps({"status": "error", "message": str(error)}).encode()
        start_response("500 INTERNAL SERVER ERROR", [("Content-Type", "application/json")])
        return [body]
    body = json.dumps({"status": code, "conversion_id": conversion_id}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def main() -> int:

    from bench.postbacks import TARGET_PER_S, prepared, serve_and_load
    from bench.scratch import psycopg_dsn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with prepared("cpa_bench_floor", 8) as (env, clicks_file, secret, started):
        statements_file = clicks_file.with_name("statements.pickle")
        statements_file.write_bytes(pickle.dumps(record(env, clicks_file, secret)))
        dsn = psycopg_dsn(env["DATABASE_URL"])
        figures, meter, stored, twice, ledger_ok = serve_and_load(
            "bench.postbacks_floor:application",
            dict(env, FLOOR_DSN=dsn, FLOOR_STATEMENTS=str(statements_file)), clicks_file,
            secret, started, args)
        rate = figures["ok"] / figures["seconds"]
        print(f"postback floor: the recorded statements behind granian {args.workers} workers "
              f"x {args.threads} threads and wrk, {args.clients} clients, {args.seconds} s; "
              "10 % duplicates; no rules, rate limit, Flask or SQLAlchemy")
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
