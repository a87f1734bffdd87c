"""Payout throughput: `.venv/bin/python bench/payouts.py`.

10,000 approved withdrawals (payouts `requested`, their jobs queued) are paid by two real worker
processes (`flask --app wsgi worker --burst --queue payouts`) against the local Stripe fake
(tests/stripe_fake.py, on a free loopback port). It creates its own PostgreSQL database
(`cpa_bench_payouts_<pid>` on BENCH_POSTGRES_URL) and claims a free Redis database number on
BENCH_REDIS_URL, both dropped at exit. The payouts are queued in batch jobs, as the weekly
automatic run queues them (PAYOUT_BATCH_SIZE per job). It prints the set-up time, the time
until every payout is paid, the throughput, the duplicates found at the fake (transfers per
payout beyond one), and the ledger check. Bounded: PAYOUTS payouts, and the workers are
stopped after MAX_SECONDS.
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.scratch import scratch_database  # noqa: E402

REDIS_SERVER_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
PAYOUTS = int(os.environ.get("BENCH_PAYOUTS", "10000"))
PUBLISHERS = 200
PASSWORD = "bench-password-1"  # noqa: S105 - throw-away users in a throw-away database
WORKERS = 2
SETUP_THREADS = 4
AMOUNT = 50_00  # each payout, in cents: the network minimum
MAX_SECONDS = 180.0  # the workers are stopped after this, paid or not
MAX_SETUP_SECONDS = 300.0  # requests stop after this
TARGET_SECONDS = 60.0


def main() -> int:
    with scratch_database("cpa_bench_payouts") as database_url:
        redis_url, release = claim_redis_db()
        try:
            return run(database_url, redis_url)
        finally:
            release()


def claim_redis_db():
    """A Redis database number no test run or other benchmark is using (as tests/conftest.py)."""
    control = redis.Redis.from_url(f"{REDIS_SERVER_URL}/0")
    number = next((n for n in range(1, 16) if control.set(
        f"cpa-test-claim:{n}", f"bench_{os.getpid()}", nx=True, ex=3600)), None)
    if number is None:
        raise SystemExit("no free Redis database number (1-15)")
    url = f"{REDIS_SERVER_URL}/{number}"

    def release():
        redis.Redis.from_url(url).flushdb()
        control.delete(f"cpa-test-claim:{number}")

    return url, release


def run(database_url: str, redis_url: str) -> int:
    from cpa_network.app import create_app
    from cpa_network.config import Config
    from cpa_network.extensions import db
    from tests.stripe_fake import API_KEY, FakeStripe

    fake = FakeStripe().start()
    settings = {"STRIPE_SECRET_KEY": API_KEY, "STRIPE_API_BASE": fake.url}
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, REDIS_URL=redis_url,
                     RATELIMIT_STORAGE_URI=redis_url,
                     SQLALCHEMY_ENGINE_OPTIONS={**Config.SQLALCHEMY_ENGINE_OPTIONS,
                                                "pool_size": SETUP_THREADS + 2}, **settings)
    try:
        with app.app_context():
            upgrade()
            started = time.perf_counter()
            publisher_ids = set_up_publishers(fake)
            request_payouts(app, publisher_ids)
            setup_s = time.perf_counter() - started
        print(f"payout benchmark: {PAYOUTS} payouts of {PUBLISHERS} publishers, {WORKERS} "
              f"workers, Stripe fake at {fake.url}; load average {os.getloadavg()[0]:.2f} on "
              f"{os.cpu_count()} cores")
        print(f"  set-up (withdrawals requested, jobs queued): {setup_s:6.1f} s")
        elapsed, paid = pay(app, database_url, redis_url, settings)
        return report(app, fake, elapsed, paid)
    finally:
        fake.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def set_up_publishers(fake) -> list[int]:
    """Publishers onboarded at the fake, each with approved earnings for its payouts."""
    from cpa_network.accounts import services
    from cpa_network.extensions import db
    from payouts import escrow, ledger
    from payouts.models import AccountKind, PayoutAccount

    per_publisher = -(-PAYOUTS // PUBLISHERS)
    advertiser = services.register_user(services.SignUp(
        email="bench-adv@example.com", password=PASSWORD, roles=("advertiser",)))
    db.session.flush()
    ledger.post_transaction("bench:fund", ledger.transfer(
        ledger.network_account(AccountKind.GATEWAY_CLEARING, "USD"),
        ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser.id, "USD"),
        PUBLISHERS * per_publisher * AMOUNT), "deposit")
    ids = []
    for n in range(PUBLISHERS):
        publisher = services.register_user(services.SignUp(
            email=f"bench-pub{n}@example.com", password=PASSWORD,
            roles=("publisher",)))
        db.session.flush()
        account = fake.post("/v1/accounts", {"type": "express", "email": publisher.email})
        fake.complete_onboarding(account["id"])
        db.session.add(PayoutAccount(user_id=publisher.id, gateway="stripe",
                                     external_id=account["id"], payouts_enabled=True,
                                     details_submitted=True, automatic=False))
        escrow.hold_conversion(n + 1, advertiser.id, publisher.id, "USD",
                               per_publisher * AMOUNT, 0)
        escrow.approve_conversion(n + 1)
        ids.append(publisher.id)
    db.session.commit()
    return ids


def request_payouts(app, publisher_ids: list[int]) -> None:
    """PAYOUTS withdrawals through the real service, a commit each, then queued in batch jobs as
    the weekly automatic run queues them."""
    from cpa_network.accounts.models import User
    from cpa_network.extensions import db
    from payouts import withdrawals
    from payouts.tasks import enqueue_payout_batches

    made: list[list[int]] = [[] for _ in range(SETUP_THREADS)]

    deadline = time.monotonic() + MAX_SETUP_SECONDS

    def requester(thread: int) -> None:
        with app.app_context():
            for i in range(thread, PAYOUTS, SETUP_THREADS):
                if time.monotonic() > deadline:
                    break  # the pay phase then reports fewer than PAYOUTS paid
                user = db.session.get(User, publisher_ids[i % len(publisher_ids)])
                made[thread].append(
                    withdrawals.request_withdrawal(user, AMOUNT, "USD", enqueue=False).id)
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=requester, args=(t,)) for t in range(SETUP_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        enqueue_payout_batches(sorted(i for ids in made for i in ids))
        db.session.commit()
        db.session.remove()


def pay(app, database_url: str, redis_url: str, settings: dict) -> tuple[float, int]:
    """Start the workers; the time until every payout is paid (or MAX_SECONDS)."""
    from cpa_network.extensions import db
    from payouts.models import Payout, PayoutStatus

    env = dict(os.environ, APP_ENV="testing", DATABASE_URL=database_url, REDIS_URL=redis_url,
               **settings)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "--queue",
               "payouts"]
    started = time.perf_counter()
    workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(WORKERS)]
    paid = 0
    with app.app_context():
        while time.perf_counter() - started < MAX_SECONDS:
            paid = db.session.scalar(select(func.count(Payout.id)).where(
                Payout.status == PayoutStatus.PAID))
            db.session.rollback()
            if paid >= PAYOUTS:
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        db.session.remove()
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
        worker.wait(30)
    return elapsed, paid


def report(app, fake, elapsed: float, paid: int) -> int:
    from collections import Counter

    from cpa_network.extensions import db
    from payouts.invariants import check_ledger

    per_payout = Counter(t["metadata"].get("payout_id") for t in fake.transfers())
    duplicates = sum(n - 1 for n in per_payout.values() if n > 1)
    print(f"  {paid} of {PAYOUTS} payouts paid in {elapsed:6.1f} s: {paid / elapsed:7.0f} "
          f"payouts/s (target: all in < {TARGET_SECONDS:.0f} s)")
    print(f"  transfers at the Stripe fake: {len(fake.transfers())}, duplicates: {duplicates}")
    with app.app_context():
        result = check_ledger()
        failed = [check.name for check in result.checks if not check.ok]
        print(f"ledger check after the run: {'OK' if result.ok else 'FAILED ' + str(failed)} "
              f"({result.transactions} transactions)")
        db.session.remove()
    return 0 if paid == PAYOUTS and duplicates == 0 and result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
