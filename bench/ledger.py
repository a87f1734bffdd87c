"""Ledger posting throughput on PostgreSQL: `.venv/bin/python bench/ledger.py`.

Creates its own database (`cpa_bench_<pid>`) on BENCH_POSTGRES_URL (default: the local server
the tests use), migrates it, and measures `post_transaction` + commit, one transaction of two
postings per commit, as a request or a job would do it:

1. single-threaded, rotating over 200 escrow accounts (no contention);
2. four threads on disjoint accounts (what the machine's cores allow);
3. four threads all debiting one hot escrow account (row-lock contention);
4. single-threaded, the real conversion flow through payouts.escrow: a hold (3 postings) then
   its approval (4 postings, two of them on the network's revenue account).

Each phase is bounded by a transaction count and a time limit; in phases 1-3 each worker first
posts 50 transactions that are not counted (its pooled connection, prepared statements), and
the clock starts once every worker is ready. The database is dropped at exit.
It prints whether phase 1 meets the target (>= 1,000 postings/s) and exits 1 if it does not,
or if a phase failed or the ledger check did.
"""

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from bench.scratch import scratch_database

TARGET_POSTINGS_PER_S = 1_000  # single-threaded, uncontended (issue 3)
MAX_TRANSACTIONS = 3_000  # per phase
MAX_SECONDS = 10.0  # per phase
WARM_UP = 50  # transactions per worker before the clock starts, not counted
ACCOUNTS = 200
THREADS = 4


def main() -> int:
    with scratch_database("cpa_bench") as database_url:
        return run(database_url)


def run(database_url: str) -> int:
    from cpa_network.app import create_app
    from cpa_network.config import Config
    from cpa_network.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     SQLALCHEMY_ENGINE_OPTIONS={**Config.SQLALCHEMY_ENGINE_OPTIONS,
                                                "pool_size": THREADS + 2})
    with app.app_context():
        upgrade()
        fund(ACCOUNTS + 1)
        db.session.commit()
    print(f"ledger benchmark on PostgreSQL ({database_url.rsplit('/', 1)[-1]}), one transaction "
          f"per commit, at most {MAX_TRANSACTIONS} transactions or {MAX_SECONDS:.0f} s per phase; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    single = phase(app, "single thread, uncontended", 1, lambda t, i: 1 + i % ACCOUNTS)
    results = [
        single,
        phase(app, f"{THREADS} threads, disjoint accounts", THREADS,
              lambda t, i: 1 + (t * (ACCOUNTS // THREADS) + i % (ACCOUNTS // THREADS))),
        phase(app, f"{THREADS} threads, one hot account", THREADS, lambda t, i: 0),
        conversion_flow(app),
    ]
    with app.app_context():
        from payouts.invariants import check_ledger

        report = check_ledger()
        print(f"ledger check after the run: {'OK' if report.ok else 'FAILED'} "
              f"({report.transactions} transactions)")
        met = single is not None and single >= TARGET_POSTINGS_PER_S
        print(f"target >= {TARGET_POSTINGS_PER_S:,} postings/s single-threaded, uncontended: "
              f"{'met' if met else 'NOT met'}")
        db.session.remove()
        db.engine.dispose()
    return 0 if report.ok and met and all(r is not None for r in results) else 1


def fund(count: int) -> None:
    """Escrow accounts for advertisers 0..count-1, each with plenty of money."""
    from payouts import ledger
    from payouts.models import AccountKind

    clearing = ledger.network_account(AccountKind.GATEWAY_CLEARING, "USD")
    for owner in range(count):
        escrow = ledger.account(AccountKind.ADVERTISER_ESCROW, owner + 1_000_000, "USD")
        ledger.post_transaction(f"bench-fund:{owner}", ledger.transfer(clearing, escrow, 10**12),
                                "deposit")


def conversion_flow(app) -> bool:
    """Hold then approve conversions, one commit each, as the offers package will."""
    from cpa_network.extensions import db
    from payouts import escrow

    deadline = time.monotonic() + MAX_SECONDS
    transactions = postings = 0
    started = time.perf_counter()
    with app.app_context():
        for i in range(MAX_TRANSACTIONS // 2):
            if time.monotonic() > deadline:
                break
            advertiser = 1_000_000 + 1 + i % ACCOUNTS
            hold = escrow.hold_conversion(i, advertiser, 2_000_000 + i % 50, "USD", 90, 10)
            db.session.commit()
            settle = escrow.approve_conversion(i)
            db.session.commit()
            transactions += 2
            postings += len(hold.postings) + len(settle.postings)
        db.session.remove()
    elapsed = time.perf_counter() - started
    print(f"  {'single thread, conversion flow':<32} {transactions:>6} transactions in "
          f"{elapsed:5.2f} s: {transactions / elapsed:8.0f} transactions/s, "
          f"{postings / elapsed:8.0f} postings/s")
    return True


def accounts_for(owners: set[int]) -> dict:
    """{owner: (escrow, hold)}, detached from the session like ids a caller keeps.

    A request or job holds a handful of objects in its session; keeping hundreds there would
    make every commit expire them all (about 2 ms a commit for 400), which measures the
    benchmark, not the ledger."""
    from cpa_network.extensions import db
    from payouts import ledger
    from payouts.models import AccountKind

    accounts = {owner: (ledger.account(AccountKind.ADVERTISER_ESCROW, owner + 1_000_000, "USD"),
                        ledger.account(AccountKind.ADVERTISER_HOLD, owner + 1_000_000, "USD"))
                for owner in owners}
    db.session.commit()
    for escrow, hold in accounts.values():
        _ = escrow.id, hold.id  # loaded before they leave the session
    db.session.expunge_all()
    return accounts


def phase(app, label: str, threads: int, owner_of) -> float | None:
    """Run `threads` workers posting escrow -> hold on `owner_of(thread, i)`'s accounts; the
    postings per second, or None if a worker failed."""
    from cpa_network.extensions import db
    from payouts import ledger

    per_thread = MAX_TRANSACTIONS // threads
    done = [0] * threads
    errors: list[BaseException] = []
    started: list[float] = []  # set once every worker is loaded and warmed up
    barrier = threading.Barrier(threads, action=lambda: started.append(time.perf_counter()))

    def post(t: int, i: int, accounts: dict, key: str) -> None:
        escrow, hold = accounts[owner_of(t, i)]
        ledger.post_transaction(key, ledger.transfer(escrow, hold, 1), "conversion_hold")
        db.session.commit()

    def worker(t: int) -> None:
        with app.app_context():
            try:
                accounts = accounts_for({owner_of(t, i) for i in range(per_thread)})
                for i in range(WARM_UP):  # a pooled connection, prepared statements
                    post(t, i, accounts, f"bench-warm:{label}:{t}:{i}")
                barrier.wait()
                deadline = started[0] + MAX_SECONDS
                for i in range(per_thread):
                    if time.perf_counter() > deadline:
                        break
                    post(t, i, accounts, f"bench:{label}:{t}:{i}")
                    done[t] += 1
            except BaseException as error:
                errors.append(error)
                barrier.abort()
            finally:
                db.session.remove()

    workers = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(MAX_SECONDS + 60)
    elapsed = time.perf_counter() - (started[0] if started else 0.0)
    total = sum(done)
    print(f"  {label:<32} {total:>6} transactions in {elapsed:5.2f} s: "
          f"{total / elapsed:8.0f} transactions/s, {2 * total / elapsed:8.0f} postings/s")
    for error in errors[:3]:
        print(f"    error: {error!r}")
    return None if errors else 2 * total / elapsed


if __name__ == "__main__":
    sys.exit(main())
