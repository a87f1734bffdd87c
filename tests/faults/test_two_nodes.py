"""Scale-out: two app nodes (two granian servers) and two workers with their beats, on one
PostgreSQL and one Redis. Clicks go to both nodes, the same postback to both at once, approvals
and payouts are raced by both workers, and both beats race for every periodic slot: no click
is lost or stored twice, no conversion, approval or payout happens twice, each slot fires once,
and `ledger check` passes."""

import threading
import time
from urllib.parse import parse_qs, urlsplit

from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from cpa_network.extensions import db
from cpa_network.jobs import QUEUES, get_queue, redis_connection
from offers import stream
from offers.conversion_models import Conversion
from offers.tasks import approve_due_conversions
from offers.tracking_models import Click
from payouts import escrow, withdrawals
from payouts.models import LedgerTransaction, Payout
from payouts.tasks import send_payout
from tests.factories import make_user
from tests.faults.node_app import TICKS
from tests.faults.servers import Visitor, app_env
from tests.offers.conversion_helpers import assert_books_balance, postback_url
from tests.offers.helpers import BROWSER, make_link, make_offer
from tests.payouts.helpers import connect_stripe_account, fund_escrow
from tests.payouts.workers import wait_until

CLICKS = 120
CONVERTED = 24
PAYOUTS = 3


def click_id_in(headers: dict) -> str:
    return parse_qs(urlsplit(headers.get("Location", "")).query).get("cid", [""])[0]


def queues_idle() -> bool:
    connection = redis_connection()
    return all(get_queue(name).count == 0
               and StartedJobRegistry(name, connection=connection).count == 0
               for name in QUEUES)


def earn(publisher_id: int, amount: int, number: int) -> None:
    """Approved earnings, as tests.payouts.helpers.earn makes them, but under conversion ids far
    from the real conversions' (the helper's 1, 2, 3 would collide with their ledger keys)."""
    advertiser_id = make_user("advertiser").id
    conversion_id = 1_000_000 + number
    fund_escrow(advertiser_id, amount, key=f"test-earn:{conversion_id}")
    escrow.hold_conversion(conversion_id, advertiser_id, publisher_id, "USD", amount, 0)
    escrow.approve_conversion(conversion_id)
    db.session.commit()


def keys(pattern: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(LedgerTransaction.idempotency_key).where(
        LedgerTransaction.idempotency_key.like(pattern))))


def test_two_nodes_and_two_workers_do_everything_exactly_once(
        app, processes, app_context, stripe_workers):
    offer = make_offer(hold_days=0)
    tokens = [make_link(offer).token for _ in range(2)]
    payout_ids = []
    for n in range(PAYOUTS):
        publisher = make_user("publisher")
        connect_stripe_account(publisher, stripe_workers)
        earn(publisher.id, 80_00, n)
        payout_ids.append(withdrawals.request_withdrawal(publisher, 60_00, "USD").id)
        db.session.commit()
    for payout_id in payout_ids:  # a second and third job per payout: the workers race on each
        get_queue("payouts").enqueue(send_payout, payout_id)
        get_queue("payouts").enqueue(send_payout, payout_id)
    env = app_env(app, PROXY_FIX_X_FOR=1, FRAUD_MIN_CLICK_SECONDS=0)
    nodes = [processes.node(env), processes.node(env)]
    for _ in range(2):
        processes.worker(env, app_module="tests.faults.node_app")
    started = time.monotonic()

    # Clicks, alternately to each node, from four visitors' threads at once.
    answers: list[tuple[int, str]] = []

    def visitor(number: int) -> None:
        connections = [Visitor(node) for node in nodes]
        try:
            for n in range(number, CLICKS, 4):
                status, headers, _ = connections[n % 2].get(f"/c/{tokens[n % 2]}", {
                    "User-Agent": BROWSER, "X-Forwarded-For": f"198.51.100.{n + 1}"})
                answers.append((status, click_id_in(headers)))
        finally:
            for connection in connections:
                connection.close()

    run_all([threading.Thread(target=visitor, args=(n,)) for n in range(4)])
    assert len(answers) == CLICKS and {status for status, _ in answers} == {302}
    click_ids = [cid for _, cid in answers]

    # The same postback (same click, same txid) to both nodes at the same moment.
    postbacks: list[tuple[int, str]] = []
    gate = threading.Barrier(2)

    def postback(node: str, path: str) -> None:
        connection = Visitor(node)
        try:
            gate.wait(timeout=10)
            status, _, body = connection.get(path)
            postbacks.append((status, body.decode()))
        finally:
            connection.close()

    for n, click_id in enumerate(click_ids[:CONVERTED]):
        path = postback_url(offer, click_id, txid=f"TX-{n}")
        run_all([threading.Thread(target=postback, args=(node, path)) for node in nodes])
    assert len(postbacks) == 2 * CONVERTED
    assert {status for status, _ in postbacks} == {200}, postbacks
    assert sum('"duplicate"' in body for _, body in postbacks) == CONVERTED, postbacks

    # Approvals: four jobs for the same due conversions; both workers take them at once.
    for _ in range(4):
        get_queue("default").enqueue(approve_due_conversions)

    def settled() -> bool:
        return (len(keys("conversion:%:settle")) == CONVERTED + PAYOUTS
                and len(keys("payout:%:settle")) == PAYOUTS)

    wait_until(settled, timeout=60, what="approvals and payouts")
    # Clicks reach PostgreSQL through the flushes the nodes arm and the workers run.
    wait_until(lambda: db.session.scalar(select(func.count()).select_from(Click)) >= CLICKS
               and stream.backlog() == 0, timeout=60, what="the click flush")
    # Long enough for several periodic slots, each raced by both beats.
    wait_until(lambda: redis_connection().llen(TICKS) >= 3, timeout=60,
               what="three periodic slots")
    wait_until(queues_idle, timeout=60, what="idle queues")
    elapsed = time.monotonic() - started
    for worker in [p for p, _ in processes.started if "worker" in p.args]:
        assert worker.poll() is None, processes.output(worker)

    db.session.expire_all()
    stored = list(db.session.scalars(select(Click.id)))
    assert sorted(stored) == sorted(click_ids)  # none lost, none twice, none made up
    conversions = list(db.session.scalars(select(Conversion)))
    assert sorted(c.txid for c in conversions) == sorted(f"TX-{n}" for n in range(CONVERTED))
    assert {c.status for c in conversions} == {"approved"}
    earned = {f"conversion:{1_000_000 + n}:{step}" for n in range(PAYOUTS)
              for step in ("hold", "settle")}
    assert sorted(set(keys("conversion:%:hold")) - earned) == sorted(
        f"conversion:{c.id}:hold" for c in conversions)
    assert sorted(set(keys("conversion:%:settle")) - earned) == sorted(
        f"conversion:{c.id}:settle" for c in conversions)
    payouts = list(db.session.scalars(select(Payout).where(Payout.id.in_(payout_ids))))
    assert {p.status for p in payouts} == {"paid"}
    transfers = stripe_workers.transfers()
    assert sorted(t["transfer_group"] for t in transfers) == sorted(
        f"payout_{i}" for i in payout_ids)
    assert sorted(keys("payout:%:settle")) == sorted(f"payout:{i}:settle" for i in payout_ids)
    runs = [run.decode() for run in redis_connection().lrange(TICKS, 0, -1)]
    assert len(runs) == len(set(runs)) >= 3, runs  # each slot's job id once
    assert_books_balance()
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    print(f"\ntwo nodes, two workers: {CLICKS} clicks, {CONVERTED} conversions (each posted to "
          f"both nodes), {PAYOUTS} payouts, {len(runs)} periodic slots in {elapsed:.1f} s")


def run_all(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
