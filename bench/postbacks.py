"""Postback ingestion benchmark: `GET /postback` with dedupe, on PostgreSQL, through granian.

    .venv/bin/python bench/postbacks.py [--seconds 10] [--workers 2] [--threads 4] [--clients 8]

Needs `wrk` (Debian: apt-get install -y wrk), PostgreSQL at BENCH_POSTGRES_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and a `redis-server` binary. It creates
a database of its own (dropped at the end) and a Redis of its own on a free port, stores
clicks from distinct addresses an hour old (so no fraud signal holds their conversions) and
200,000 decided conversions with their log lines (tables the size of a live network's, where a
plan that reads every row shows), serves
the app with granian on a free loopback port and loads `/postback` with wrk: `--clients`
connections, every 10th request a txid the same client sent before (10 % duplicates). It
prints accepted postbacks per second and the duplicates refused, then checks the database:
one conversion per accepted answer, no txid twice, and `ledger check`.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench import cputime, seed  # noqa: E402
from bench.clicks import free_port, stop, wait_for_port  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402

TARGET_PER_S = 500
CLICKS = 20_000
HISTORY = 200_000  # decided conversions stored before the run (bench/seed.py)


def prepare(env: dict, clicks_file: Path, advertisers: int, history: int = HISTORY) -> str:
    """Schema, funded advertisers with a live offer each (one shared postback secret, so wrk
    needs one), a publisher's links, their clicks and `history` decided conversions; returns
    the secret."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from cpa_network.accounts import services as accounts
    from cpa_network.app import create_app
    from cpa_network.extensions import db

    def person(email: str, role: str):
        return accounts.register_user(accounts.SignUp(
            email=email, password=secrets.token_urlsafe(16), roles=(role,)))

    app = create_app()
    secret = secrets.token_hex(24)
    with app.app_context():
        upgrade()
        publisher, admin = person("pub@bench.example.com", "publisher"), \
            person("admin@bench.example.com", "admin")
        advertiser_list = [person(f"adv{number}@bench.example.com", "advertiser")
                           for number in range(advertisers)]
        offer_links = seed.funded_offers(advertiser_list, admin, publisher, secret, "bench",
                                         10_00)
        db.session.flush()
        records = seed.hour_old_clicks(offer_links, publisher.id, CLICKS, "bench")
        seed.decided_history(offer_links, history)
        db.session.commit()
        seed.vacuumed(env["DATABASE_URL"])
        clicks_file.write_text("\n".join(r["id"] for r in records) + "\n")
        db.session.remove()
        db.engine.dispose()
    return secret


def check(env: dict) -> tuple[int, int, bool]:
    """Conversions stored, txids stored twice (must be 0), and the ledger check."""
    os.environ.update(env)
    from sqlalchemy import func, select

    from cpa_network.app import create_app
    from cpa_network.extensions import db
    from offers.conversion_models import Conversion
    from payouts.invariants import check_ledger

    app = create_app()
    with app.app_context():
        stored = db.session.scalar(select(func.count(Conversion.id)))
        twice = db.session.scalar(select(func.count()).select_from(
            select(Conversion.txid).group_by(Conversion.txid)
            .having(func.count(Conversion.id) > 1).subquery()))
        ok = check_ledger().ok
        db.session.remove()
        db.engine.dispose()
    return stored, twice, ok


def run_wrk(url: str, seconds: int, clients: int, args: list[str]) -> dict:
    threads = min(2, clients)
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "postbacks.lua"), url, "--", *args],
        capture_output=True, text=True, check=True, timeout=seconds + 120)
    line = [row for row in result.stdout.splitlines() if row.startswith("{")][-1]
    figures = json.loads(line)
    figures["seconds"] = figures["duration_us"] / 1e6
    return figures


@contextmanager
def prepared(prefix: str, advertisers: int):
    """A database `<prefix>_<pid>` (bench/scratch.py) and a Redis of their own, prepared by
    `prepare`; yields
    (env, clicks file, postback secret, processes to stop) and removes everything at exit."""
    workdir = Path(tempfile.mkdtemp(prefix="cpa-bench-"))
    redis_port = free_port()
    started: list[subprocess.Popen] = []
    with scratch_database(prefix) as database_url:
        env = dict(os.environ, APP_ENV="production", SECRET_KEY=secrets.token_hex(16),
                   DATABASE_URL=database_url, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
                   UPLOAD_DIR=str(workdir),
                   # Counted (its Redis round trip is part of the path) but never reached.
                   RATELIMIT_POSTBACK="1000000 per second")
        try:
            started.append(subprocess.Popen(
                ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save",
                 "", "--appendonly", "no"], stdout=subprocess.DEVNULL))
            wait_for_port(redis_port)
            clicks_file = workdir / "clicks.txt"
            secret = prepare(env, clicks_file, advertisers)
            yield env, clicks_file, secret, started
        finally:
            stop(started)
            shutil.rmtree(workdir, ignore_errors=True)


def serve_and_load(target: str, env: dict, clicks_file: Path, secret: str,
                   started: list[subprocess.Popen], args) -> tuple:
    """Serve the WSGI `target` as production does (`serve_command`), warm it up, then load it
    with wrk for `args.seconds` from `args.clients` connections. Returns the wrk figures, the
    CPU meter of the measured run, the conversions it stored, the txids stored twice and the
    ledger check."""
    app_port = free_port()
    started.append(subprocess.Popen(
        serve_command(target, app_port, args.workers, args.threads), cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for_port(app_port)
    url = f"http://127.0.0.1:{app_port}"
    lua_args = [str(clicks_file), secret, "order"]
    run_wrk(url, 3, args.clients, [*lua_args, "W"])  # connections, compiled statements
    time.sleep(1)  # requests still in flight when wrk stopped finish
    before, _twice, _ok = check(env)
    server, redis_server = started[-1].pid, started[0].pid
    with cputime.Meter(env["DATABASE_URL"], server, redis_server) as meter:
        figures = run_wrk(url, args.seconds, args.clients, [*lua_args, "M"])
    time.sleep(1)
    stored, twice, ledger_ok = check(env)
    return figures, meter, stored - before, twice, ledger_ok


def serve_command(target: str, port: int, workers: int, threads: int,
                  access_log: str | None = None) -> list[str]:
    """granian, the production server (README "Production"): `workers` processes, each running
    the app in `threads` threads; an access log in the format `access_log`, if given, on
    standard output."""
    log = ["--access-log", "--access-log-fmt", access_log] if access_log else ["--no-access-log"]
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
            "--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port),
            *log, target]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per server process")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--advertisers", type=int, default=8,
                        help="offers (one per advertiser) the postbacks spread over")
    args = parser.parse_args()
    args.seconds = min(max(args.seconds, 1), 120)
    for binary in ("wrk", "redis-server"):
        if shutil.which(binary) is None:
            print(f"bench: `{binary}` is missing (Debian: apt-get install -y {binary})")
            return 2
    with prepared("cpa_bench_pb", max(args.advertisers, 1)) as (env, clicks_file, secret,
                                                                 started):
        figures, meter, stored, twice, ledger_ok = serve_and_load(
            "wsgi:app", env, clicks_file, secret, started, args)
        accepted_per_s = figures["ok"] / figures["seconds"]
        print(f"postbacks: wrk, {args.clients} clients, {args.seconds} s, granian "
              f"{args.workers} workers x {args.threads} threads, PostgreSQL; 10 % duplicates; "
              f"{args.advertisers} advertisers")
        print(f"  requests {figures['requests']:,}: accepted {figures['ok']:,}, "
              f"duplicates refused {figures['duplicate']:,} of {figures['sent_dupes']:,} sent, "
              f"other {figures['other']}, socket errors {figures['errors']}")
        print(f"  accepted postbacks/s: {accepted_per_s:,.0f} (target >= {TARGET_PER_S}); "
              f"p50 {figures['p50_us'] / 1000:.1f} ms, p99 {figures['p99_us'] / 1000:.1f} ms")
        print(f"  CPU per accepted postback: {meter.per(figures['ok'])} "
              f"(2 cores: {2000 / max(figures['ok'] / figures['seconds'], 1):.2f} ms of CPU "
              "per postback at this rate)")
        print(f"  conversions stored by the run: {stored:,} (accepted answers {figures['ok']:,}, "
              f"and up to {args.clients} in flight when wrk stopped); txids stored twice: "
              f"{twice}; ledger check: {'OK' if ledger_ok else 'FAILED'}")
        # A duplicate whose original was still in flight when wrk stopped may be the one
        # answered "ok"; the database count above is the exact check.
        good = (accepted_per_s >= TARGET_PER_S and twice == 0
                and figures["ok"] <= stored <= figures["ok"] + args.clients
                and ledger_ok and figures["other"] == 0
                and figures["duplicate"] >= figures["sent_dupes"] - args.clients)
        print("targets met" if good else "targets NOT met")
        return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
