"""What the database alone allows: the SQL of an accepted postback, replayed without Flask, HTTP
or SQLAlchemy.

    .venv/bin/python bench/postbacks_sql.py [--seconds 10] [--processes 8]

It prepares the same database as bench/postbacks.py (funded offers, clicks an hour old), sends
one real postback through the app while recording the statements it runs on
offers.postback_direct's autocommit connection (the click with its offer's version, the facts
with the new conversion's id, and `conversion_record`, which writes the conversion, its hold,
its rollup and its log line), then replays them from `--processes` processes on bare psycopg
connections in autocommit, each postback with its own click and txid, for `--seconds`. The
figure is the ceiling of the present statements on this machine: what a postback path with no
framework, no rules and no ORM at all could reach. Every replayed postback must insert its
conversion and post its hold, and `ledger check` runs at the end.
"""

import argparse
import json
import multiprocessing
import os
import secrets
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, event, text  # noqa: E402

from bench.postbacks import TARGET_PER_S, check, prepared  # noqa: E402
from bench.scratch import psycopg_dsn  # noqa: E402

# What the app runs for an accepted postback, in order (checked on the recording).
WARM_UP = 40  # postbacks before the recorded one (the clicks cycle over the offers)
SEQUENCE = ("FROM clicks", "AS duplicate_id", "conversion_record(")
# A duplicate's log line (the app writes it with SQLAlchemy's insert; the same row here).
LOG_LINE = ("INSERT INTO postback_log (received_at, offer_id, source, method, params, "
            "remote_prefix, code, http_status, message, conversion_id) SELECT received_at, "
            "offer_id, source, method, params, remote_prefix, code, http_status, message, "
            "conversion_id FROM json_populate_record(NULL::postback_log, %s::json)")


def record(env: dict, clicks_file: Path, secret: str) -> list[tuple[str, object]]:
    """One accepted postback through the app, after a first one on every offer (which creates
    the advertiser's hold accounts, on the full path); the (statement, parameters) it executed
    on the direct path's connection."""
    os.environ.update(env)
    from cpa_network.app import create_app
    from offers import postback_direct

    app = create_app()
    captured: list[tuple[str, object]] = []
    clicks = clicks_file.read_text().split()
    client = app.test_client()
    for n, click in enumerate(clicks[:WARM_UP + 1]):
        if n == WARM_UP:
            event.listen(postback_direct._engine(app), "before_cursor_execute",
                         lambda _c, _cur, statement, params, _ctx, _many:
                         captured.append((statement, params)))
        answer = client.get(f"/postback?click_id={click}&goal=order&txid=warm-{n}&secret={secret}")
        assert answer.status_code == 200, answer.get_data(as_text=True)
    postback_direct.dispose(app)
    kinds = [next((k for k in SEQUENCE if k in statement), statement[:40])
             for statement, _ in captured]
    if tuple(kinds) != SEQUENCE:
        raise SystemExit(f"the postback path changed; update this benchmark: {kinds}")
    return captured


def one_postback(conn, statements: list, advertisers: dict, click_id: str,
                 txid: str) -> tuple[str, int | None]:
    """The recorded statements of one postback on `conn` (bare psycopg, autocommit): ("ok", new
    conversion id) or ("duplicate", the original's id, None if a concurrent one won). Raises
    RuntimeError if the hold was not posted."""
    from psycopg.rows import dict_row

    from offers.tracking import click_time_range
    from payouts.escrow import HOLD_ACCOUNTS  # in the order of the recorded legs

    (click_sql, _), (facts_sql, facts), (record_sql, recorded) = statements
    conversion, _key, reason, description, refs, fingerprint, _at, _legs, amounts, \
        negative, rollup, log = recorded
    after, before = click_time_range(click_id)
    now = datetime.now(UTC)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(click_sql, {"click_id": click_id, "after": after, "before": before})
        click = cur.fetchone()
        offer_id, publisher_id = click["offer_id"], click["publisher_id"]
        advertiser_id = advertisers[offer_id]
        cur.execute(facts_sql, {**facts, "offer_id": offer_id, "txid": txid,
                                "publisher_id": publisher_id, "advertiser_id": advertiser_id,
                                "ip_hash": click["ip_hash"],
                                "login_since": now - timedelta(days=180),
                                "velocity_since": now - timedelta(days=1)})
        found = cur.fetchone()
        line = {**json.loads(log), "offer_id": offer_id, "received_at": now.isoformat(),
                "params": {"click_id": click_id, "goal": "order", "txid": txid, "secret": "***"}}
        if found["duplicate_id"] is not None:
            line.update(code="duplicate", conversion_id=found["duplicate_id"])
            cur.execute(LOG_LINE, (json.dumps(line),))
            return "duplicate", found["duplicate_id"]
        new_id, until = found["new_id"], now + timedelta(days=14)
        subs = {f"sub{i}": click[f"sub{i}"] for i in range(1, 6)}
        row = {**json.loads(conversion), **subs, "id": new_id, "offer_id": offer_id,
               "link_id": click["link_id"], "advertiser_id": advertiser_id,
               "publisher_id": publisher_id, "click_id": click_id, "txid": txid,
               "ip_hash": click["ip_hash"], "country": click["country"],
               "clicked_at": click["clicked_at"].isoformat(), "created_at": now.isoformat(),
               "hold_until": until.isoformat()}
        hour = now.replace(minute=0, second=0, microsecond=0)
        counters = {**json.loads(rollup), **subs, "hour": hour.isoformat(),
                    "link_id": click["link_id"], "offer_id": offer_id,
                    "publisher_id": publisher_id, "country": click["country"]}
        line["conversion_id"] = new_id
        cur.execute(record_sql, (
            json.dumps(row), f"conversion:{new_id}:hold", reason, description,
            json.dumps({**json.loads(refs), "conversion": new_id, "advertiser": advertiser_id,
                        "publisher": publisher_id, "available_at": until.isoformat()}),
            fingerprint, now, [found[kind.value] for kind in HOLD_ACCOUNTS], amounts, negative,
            json.dumps(counters), json.dumps(line)))
        outcome = cur.fetchone()["outcome"]
    if outcome == "duplicate":  # a concurrent identical postback won
        return "duplicate", None
    if outcome != "posted":
        raise RuntimeError("the hold was not posted")
    return "ok", new_id


def replay(worker: int, dsn: str, statements: list, clicks: list, advertisers: dict,
           seconds: float, processes: int, results) -> None:
    """Postbacks from this process until the time is up, each a fresh txid on a click of
    `clicks` (ids); puts (done, failures) on `results`."""
    import psycopg

    done = failures = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        deadline = time.monotonic() + seconds
        n = worker
        while time.monotonic() < deadline:
            click_id = clicks[(n * 7919) % len(clicks)]
            n += processes
            txid = f"sql-{worker}-{n}-{secrets.token_hex(4)}"
            try:
                code, _conversion_id = one_postback(conn, statements, advertisers, click_id,
                                                    txid)
            except RuntimeError:
                code = "failed"
            done += code == "ok"
            failures += code != "ok"
    results.put((done, failures))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--advertisers", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        print("bench: `redis-server` is missing (Debian: apt-get install -y redis-server)")
        return 2
    with prepared("cpa_bench_sql", max(args.advertisers, 1)) as (env, clicks_file, secret,
                                                                  _started):
        statements = record(env, clicks_file, secret)
        database_url = env["DATABASE_URL"]
        dsn = psycopg_dsn(database_url)
        engine = create_engine(database_url)
        with engine.connect() as conn:
            clicks = list(conn.scalars(text("SELECT id FROM clicks ORDER BY id")))
            advertisers = dict(conn.execute(text("SELECT id, advertiser_id FROM offers")).all())
        engine.dispose()
        before, _twice, _ok = check(env)
        results = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=replay, args=(
            w, dsn, statements, clicks, advertisers, args.seconds, args.processes, results))
            for w in range(args.processes)]
        clock = time.perf_counter()
        for w in workers:
            w.start()
        outcomes = [results.get(timeout=args.seconds + 120) for _ in workers]
        elapsed = time.perf_counter() - clock
        for w in workers:
            w.join()
        done, failures = sum(o[0] for o in outcomes), sum(o[1] for o in outcomes)
        stored, twice, ledger_ok = check(env)
        print(f"postback SQL replayed on bare psycopg: {args.processes} processes, "
              f"{args.seconds} s, {args.advertisers} advertisers; no Flask, HTTP or SQLAlchemy")
        print(f"  postbacks/s: {done / elapsed:,.0f} (the HTTP benchmark's target: "
              f">= {TARGET_PER_S}); failures {failures}")
        print(f"  conversions stored: {stored - before:,} (replayed {done:,}); txids stored "
              f"twice: {twice}; ledger check: {'OK' if ledger_ok else 'FAILED'}")
        return 0 if failures == 0 and stored - before == done and ledger_ok else 1


if __name__ == "__main__":
    sys.exit(main())
