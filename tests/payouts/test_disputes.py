"""Chargebacks: a deposit's card payment disputed at Stripe (the local fake), delivered as signed
`charge.dispute.*` webhooks through the real endpoint. The ledger follows the money once,
whatever the order and repetition of the events, and never lets escrow go below zero."""

import pytest
from sqlalchemy import func, select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from cpa_network.notifications.models import Notification
from offers import review
from offers import status as st
from offers.awaiting import FUNDS
from payouts import deposits, dispute_debts, escrow, ledger, refunds
from payouts.dispute_models import DepositDispute
from payouts.invariants import check_ledger
from payouts.ledger import InsufficientFunds
from payouts.models import AccountKind, Deposit, LedgerTransaction, StripeEvent
from payouts.stripe_events import handle_event
from tests.conftest import run_worker_burst
from tests.factories import make_api_key, make_user
from tests.offers.conversion_helpers import (
    assert_books_balance,
    conversions,
    postback_url,
    stored_click,
)
from tests.offers.helpers import make_link, make_offer
from tests.payouts.conftest import deliver
from tests.payouts.helpers import fund_escrow

K = AccountKind


def sign_in(client, email: str) -> None:
    """Sign out whoever is signed in, then sign in as `email`."""
    if client.get("/dashboard").status_code == 200:  # someone is signed in
        client.submit("/logout", {}, page="/dashboard")
    client.login(email)


def deposit_paid(client, stripe_fake, email: str, amount: str) -> Deposit:
    """`email` (an advertiser, made on first use) deposits `amount` USD through Checkout and the
    webhook credits it: the deposit, as the database has it."""
    if db.session.scalar(select(User).where(User.email == email)) is None:
        make_user("advertiser", email=email)
    sign_in(client, email)
    client.submit("/balance/deposit", {"amount": amount, "currency": "USD", "confirmed": "yes"},
                  page="/balance")
    deposit = db.session.scalar(select(Deposit).order_by(Deposit.id.desc()))
    session = stripe_fake.complete_checkout(deposit.checkout_session_id)
    assert deliver(client, stripe_fake.event("checkout.session.completed", session)).json[
        "outcome"] == "credited"
    db.session.expire_all()
    return db.session.get(Deposit, deposit.id)


def send(client, stripe_fake, type_: str, dispute: dict, **changes) -> str:
    """Deliver one `charge.dispute.*` event (a new event id each time): its outcome."""
    answer = deliver(client, stripe_fake.event(f"charge.dispute.{type_}", {**dispute, **changes}))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.json["outcome"]


def money(owner_id: int) -> dict[str, int]:
    """The owner's escrow and money in dispute, and the network's revenue and clearing (USD)."""
    db.session.expire_all()
    return {"escrow": ledger.balance(K.ADVERTISER_ESCROW, owner_id, "USD"),
            "disputed": ledger.balance(K.DISPUTED, owner_id, "USD"),
            "revenue": ledger.balance(K.NETWORK_REVENUE, 0, "USD"),
            "clearing": ledger.balance(K.GATEWAY_CLEARING, 0, "USD")}


def usd_balances(client, user) -> dict:
    """The user's USD row of `GET /api/v1/balances`."""
    answer = client.get("/api/v1/balances",
                        headers={"Authorization": f"Bearer {make_api_key(user)}"})
    assert answer.status_code == 200
    (row,) = [row for row in answer.json["balances"] if row["currency"] == "USD"]
    return row


def card_deposit(advertiser, amount: int, intent: str) -> Deposit:
    """A card deposit credited as its webhook would credit it (no Checkout round trip)."""
    deposit = deposits.create_deposit(advertiser, amount, "USD")
    deposit.gateway, deposit.payment_intent_id = "stripe", intent
    deposits.credit_deposit(deposit)
    db.session.commit()
    return deposit


def charged_back(intent: str, amount: int) -> str:
    """`charge.dispute.created` for the payment `intent`, handled and committed: its outcome."""
    outcome = handle_event({"id": f"evt_{intent}", "type": "charge.dispute.created", "data": {
        "object": {"id": f"dp_{intent}", "object": "dispute", "payment_intent": intent,
                   "amount": amount, "currency": "usd", "status": "needs_response",
                   "reason": "fraudulent"}}})
    db.session.commit()
    return outcome


def the_dispute() -> DepositDispute:
    db.session.expire_all()
    return db.session.scalar(select(DepositDispute))


def dispute_keys() -> list[tuple[str, str]]:
    """(idempotency key, reason) of every dispute transaction, in posting order."""
    return [tuple(row) for row in db.session.execute(
        select(LedgerTransaction.idempotency_key, LedgerTransaction.reason)
        .where(LedgerTransaction.reason.like("dispute%")).order_by(LedgerTransaction.id))]


def assert_ledger_ok() -> None:
    db.session.expire_all()
    report = check_ledger()
    assert report.ok, [(c.name, c.problems) for c in report.checks if not c.ok]


def kinds_notified(user_id: int) -> set[str]:
    return set(db.session.scalars(select(Notification.kind).where(
        Notification.user_id == user_id)))


def test_a_chargeback_moves_the_disputed_amount_from_escrow_into_dispute(
        client, app_context, stripe_fake):
    admin = make_user("admin")
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "1000.00")
    advertiser = deposit.owner_id
    assert money(advertiser) == {"escrow": 1000_00, "disputed": 0, "revenue": 0,
                                 "clearing": -1000_00}
    dispute = stripe_fake.dispute(deposit.payment_intent_id, 300_00)

    assert send(client, stripe_fake, "created", dispute) == "dispute_withdrawn"
    assert money(advertiser) == {"escrow": 700_00, "disputed": 300_00, "revenue": 0,
                                 "clearing": -1000_00}
    row = the_dispute()
    assert (row.stripe_dispute_id, row.deposit_id, row.owner_id, row.amount, row.currency) == (
        dispute["id"], deposit.id, advertiser, 300_00, "USD")
    assert (row.status, row.reason, row.funds, row.taken_amount, row.shortfall_amount,
            row.owed) == ("needs_response", "fraudulent", "withdrawn", 300_00, 0, 0)
    assert row.evidence_due_by is not None
    assert dispute_keys() == [(f"dispute:{row.id}:withdrawn", "dispute_withdrawn")]
    assert "dispute_opened" in kinds_notified(advertiser)
    assert "dispute_opened_operator" in kinds_notified(admin.id)
    assert_ledger_ok()

    page = client.get(f"/balance/deposits/{deposit.id}").get_data(as_text=True)
    assert "Chargebacks" in page and "taken back, pending" in page
    balance = client.get("/balance").get_data(as_text=True)
    assert "In dispute" in balance and "$300.00" in balance


def test_redelivered_and_twin_events_move_the_money_once(client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "500.00")
    dispute = stripe_fake.dispute(deposit.payment_intent_id, 200_00)
    created = stripe_fake.event("charge.dispute.created", dispute)
    outcomes = [deliver(client, created).json["outcome"] for _ in range(3)]
    assert outcomes == ["dispute_withdrawn", "duplicate", "duplicate"]
    # Stripe also sends funds_withdrawn (and updates) for the same withdrawal: new events.
    assert send(client, stripe_fake, "funds_withdrawn", dispute) == "already_withdrawn"
    assert send(client, stripe_fake, "updated", dispute,
                status="under_review") == "already_withdrawn"
    assert money(deposit.owner_id)["escrow"] == 300_00
    assert money(deposit.owner_id)["disputed"] == 200_00
    assert len(dispute_keys()) == 1
    assert the_dispute().status == "under_review"
    assert db.session.scalar(select(func.count(StripeEvent.id)).where(
        StripeEvent.type.like("charge.dispute.%"))) == 3
    assert_ledger_ok()


def test_a_won_dispute_returns_the_money_to_escrow_once(client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "1000.00")
    advertiser = deposit.owner_id
    dispute = stripe_fake.dispute(deposit.payment_intent_id, 400_00)
    send(client, stripe_fake, "created", dispute)
    assert money(advertiser)["escrow"] == 600_00

    # funds_reinstated and closed/won are the same money: whichever comes first moves it.
    assert send(client, stripe_fake, "funds_reinstated", dispute, status="won") \
        == "dispute_reinstated"
    assert send(client, stripe_fake, "closed", dispute, status="won") == "already_reinstated"
    assert money(advertiser) == {"escrow": 1000_00, "disputed": 0, "revenue": 0,
                                 "clearing": -1000_00}
    row = the_dispute()
    assert (row.funds, row.status, row.owed) == ("reinstated", "won", 0)
    assert [reason for _key, reason in dispute_keys()] == ["dispute_withdrawn", "dispute_won"]
    assert dispute_keys()[1][0] == f"dispute:{row.id}:settle"
    assert {"dispute_opened", "dispute_won"} <= kinds_notified(advertiser)
    assert_ledger_ok()


def test_a_lost_dispute_leaves_through_clearing_and_escrow_stays_reduced(
        client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "1000.00")
    advertiser = deposit.owner_id
    dispute = stripe_fake.dispute(deposit.payment_intent_id, 300_00)
    send(client, stripe_fake, "created", dispute)
    assert send(client, stripe_fake, "closed", dispute, status="lost") == "dispute_lost"
    # The platform holds 700.00 at Stripe now: clearing mirrors it.
    assert money(advertiser) == {"escrow": 700_00, "disputed": 0, "revenue": 0,
                                 "clearing": -700_00}
    # A late redelivery of an earlier step, or a reinstatement, changes nothing.
    assert send(client, stripe_fake, "created", dispute) == "already_lost"
    assert send(client, stripe_fake, "funds_reinstated", dispute) == "already_lost"
    assert money(advertiser)["escrow"] == 700_00
    row = the_dispute()
    assert (row.funds, row.status) == ("lost", "lost")
    assert [reason for _key, reason in dispute_keys()] == ["dispute_withdrawn", "dispute_lost"]
    assert "dispute_lost" in kinds_notified(advertiser)
    assert_ledger_ok()


@pytest.mark.parametrize(("status", "escrow_after", "clearing_after", "reason"), [
    ("won", 1000_00, -1000_00, "dispute_won"),
    ("lost", 750_00, -750_00, "dispute_lost"),
])
def test_a_closed_event_before_created_withdraws_then_decides_once(
        client, app_context, stripe_fake, status, escrow_after, clearing_after, reason):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "1000.00")
    dispute = stripe_fake.dispute(deposit.payment_intent_id, 250_00)
    expected = "dispute_reinstated" if status == "won" else "dispute_lost"
    assert send(client, stripe_fake, "closed", dispute, status=status) == expected
    settled = "already_reinstated" if status == "won" else "already_lost"
    assert send(client, stripe_fake, "created", dispute) == settled
    assert the_dispute().status == status  # a late `created` never reopens a decided dispute
    late = [send(client, stripe_fake, "funds_withdrawn", dispute),
            send(client, stripe_fake, "closed", dispute, status=status)]
    assert late == [settled] * 2
    row = the_dispute()
    assert dispute_keys() == [(f"dispute:{row.id}:withdrawn", "dispute_withdrawn"),
                              (f"dispute:{row.id}:settle", reason)]
    found = money(deposit.owner_id)
    assert (found["escrow"], found["disputed"], found["clearing"]) == (
        escrow_after, 0, clearing_after)
    assert_ledger_ok()


def test_a_dispute_larger_than_the_escrow_left_pauses_offers_and_is_repaid_first(
        app, client, app_context, stripe_fake):
    """The advertiser deposits 100.00; eight 10.00 conversions (+ 1.00 fee each) hold 88.00;
    the whole 100.00 is charged back. Escrow gives its 12.00 and stops at zero; the network
    fronts 88.00 (the held conversions still pay their publishers); the offer pauses, so new
    conversions wait; the next deposit repays the 88.00 before funding them."""
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "100.00")
    advertiser = deposit.owner_id
    offer = make_offer(db.session.get(User, advertiser), escrow=0)
    link = make_link(offer)
    for n in range(8):
        client.get(postback_url(offer, stored_click(link, ip=f"5.18.9.{n}"), txid=f"T{n}"))
    assert [c.status for c in conversions()] == ["pending"] * 8
    assert money(advertiser)["escrow"] == 12_00

    dispute = stripe_fake.dispute(deposit.payment_intent_id)  # the whole payment
    assert send(client, stripe_fake, "created", dispute) == "dispute_withdrawn"
    row = the_dispute()
    assert (row.amount, row.taken_amount, row.shortfall_amount, row.owed) == (
        100_00, 12_00, 88_00, 88_00)
    assert money(advertiser) == {"escrow": 0, "disputed": 100_00, "revenue": -88_00,
                                 "clearing": -100_00}
    assert escrow.on_hold(advertiser, "USD") == 88_00  # the conversions keep their money
    assert "dispute_opened_short" in kinds_notified(advertiser)
    assert_ledger_ok()  # nothing but revenue and clearing below zero
    row = usd_balances(client, db.session.get(User, advertiser))
    assert (row["escrow"], row["disputed"], row["owed"]) == (0, 100_00, 88_00)

    # The withdrawal's job pauses the offer the escrow no longer backs.
    assert run_worker_burst(app, "--no-beat").returncode == 0
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.PAUSED, FUNDS)
    client.get(postback_url(offer, stored_click(link, ip="5.18.9.99"), txid="late"))
    assert conversions()[-1].status == "awaiting_funds"  # kept, not paid from nothing
    assert money(advertiser)["escrow"] == 0
    # Money back in escrow from elsewhere (a rejection, say) does not put the offer live
    # again while the advertiser owes more than it: the debt is not there to back conversions.
    fund_escrow(advertiser, 20_00, key="returned-by-a-rejection")
    sign_in(client, "adv@example.com")
    page = f"/advertiser/offers/{offer.id}"
    refused = client.submit(f"{page}/status", {"target": "active"}, page=page,
                            follow_redirects=True)
    assert refused.status_code == 200 and "Top up the escrow first." in refused.get_data(
        as_text=True)
    db.session.expire_all()
    assert offer.status == st.PAUSED

    # A held conversion is still approved and paid to its publisher.
    review.decide(db.session.get(User, advertiser), conversions()[0].id, "approve")
    db.session.commit()
    assert ledger.balance(K.PUBLISHER_AVAILABLE, link.publisher_id, "USD") == 10_00

    # The next deposit repays the 88.00 first, then funds the waiting conversion.
    deposit_paid(client, stripe_fake, "adv@example.com", "150.00")
    row = the_dispute()
    assert (row.recovered_amount, row.owed) == (88_00, 0)
    assert money(advertiser)["escrow"] == 20_00 + 150_00 - 88_00
    assert money(advertiser)["revenue"] == 1_00  # the approval's fee; the 88.00 came back
    assert run_worker_burst(app, "--no-beat").returncode == 0
    assert conversions()[-1].status == "pending"
    assert money(advertiser)["escrow"] == 20_00 + 150_00 - 88_00 - 11_00
    db.session.expire_all()
    assert (offer.status, offer.paused_reason) == (st.ACTIVE, "")
    repaid = [key for key, reason in dispute_keys() if reason == "dispute_repaid"]
    assert repaid == [f"dispute:{row.id}:repaid:8800"]
    assert_books_balance()


def test_a_won_dispute_gives_back_what_the_owner_repaid_and_ends_the_debt(
        client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "100.00")
    advertiser = deposit.owner_id
    publisher = make_user("publisher")
    escrow.hold_conversion(9001, advertiser, publisher.id, "USD", 60_00, 0)
    db.session.commit()
    dispute = stripe_fake.dispute(deposit.payment_intent_id)
    send(client, stripe_fake, "created", dispute)
    assert the_dispute().owed == 60_00
    deposit_paid(client, stripe_fake, "adv@example.com", "25.00")  # repays 25.00 at once
    assert (the_dispute().owed, money(advertiser)["escrow"]) == (35_00, 0)
    fund_escrow(advertiser, 10_00, key="returned-by-a-rejection")  # money from elsewhere
    assert dispute_debts.settle_all_debts() == 10_00  # the periodic sweep
    assert (the_dispute().owed, money(advertiser)["escrow"]) == (25_00, 0)

    assert send(client, stripe_fake, "closed", dispute, status="won") == "dispute_reinstated"
    # The escrow gets what it gave (40.00) and what was repaid (35.00); revenue is whole again.
    found = money(advertiser)
    assert (found["escrow"], found["disputed"], found["revenue"]) == (75_00, 0, 0)
    assert the_dispute().owed == 0
    assert dispute_debts.owed_total(advertiser, K.ADVERTISER_ESCROW, "USD") == 0
    assert_ledger_ok()


def test_escrow_is_not_refunded_while_owed_nor_to_a_disputed_card(
        client, app_context, stripe_fake):
    first = deposit_paid(client, stripe_fake, "adv@example.com", "80.00")
    second = deposit_paid(client, stripe_fake, "adv@example.com", "100.00")
    advertiser = first.owner_id
    escrow.hold_conversion(9002, advertiser, make_user("publisher").id, "USD", 150_00, 0)
    db.session.commit()
    send(client, stripe_fake, "created", stripe_fake.dispute(second.payment_intent_id))
    assert (the_dispute().taken_amount, the_dispute().owed) == (30_00, 70_00)
    fund_escrow(advertiser, 100_00, key="returned-by-a-rejection")  # not swept yet
    with pytest.raises(InsufficientFunds):  # 70.00 of the 100.00 repays the debt first
        refunds.withdraw_escrow(advertiser, 40_00, "USD")
    db.session.rollback()
    # The newest deposit is the disputed one: its card cannot be refunded, the older one is.
    made = refunds.withdraw_escrow(advertiser, 30_00, "USD")
    db.session.commit()
    assert [(r.deposit_id, r.amount) for r in made] == [(first.id, 30_00)]
    assert (the_dispute().owed, money(advertiser)["escrow"]) == (0, 0)
    assert_ledger_ok()


def test_an_inquiry_moves_no_money_until_it_becomes_a_chargeback(
        client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "300.00")
    dispute = stripe_fake.dispute(deposit.payment_intent_id, 300_00,
                                  status="warning_needs_response")
    assert send(client, stripe_fake, "created", dispute) == "dispute_recorded"
    assert money(deposit.owner_id)["escrow"] == 300_00 and dispute_keys() == []
    assert send(client, stripe_fake, "funds_withdrawn", dispute,
                status="needs_response") == "dispute_withdrawn"
    assert money(deposit.owner_id)["escrow"] == 0
    assert_ledger_ok()


def test_an_inquiry_closed_without_a_chargeback_moves_nothing(client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "300.00")
    dispute = stripe_fake.dispute(deposit.payment_intent_id, status="warning_needs_response")
    assert send(client, stripe_fake, "created", dispute) == "dispute_recorded"
    assert send(client, stripe_fake, "closed", dispute, status="warning_closed") \
        == "dispute_recorded"
    assert (the_dispute().funds, the_dispute().status) == ("none", "warning_closed")
    assert money(deposit.owner_id)["escrow"] == 300_00 and dispute_keys() == []
    assert_ledger_ok()


def test_a_dispute_of_a_payment_that_is_not_ours_writes_nothing(client, app_context,
                                                                stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "300.00")
    transactions = db.session.scalar(select(func.count(LedgerTransaction.id)))
    real = stripe_fake.dispute(deposit.payment_intent_id, 100_00)
    foreign = {**real, "id": "dp_not_ours", "payment_intent": "pi_unknown", "charge": "ch_x"}
    too_big = {**real, "id": "dp_too_big", "amount": 300_01}
    other_currency = {**real, "id": "dp_eur", "currency": "eur"}
    for dispute in (foreign, too_big, other_currency):
        for step in ("created", "closed"):
            assert send(client, stripe_fake, step, dispute) == "unknown_deposit"
    assert db.session.scalar(select(func.count(DepositDispute.id))) == 0
    assert db.session.scalar(select(func.count(LedgerTransaction.id))) == transactions
    assert money(deposit.owner_id)["escrow"] == 300_00
    outcomes = set(db.session.scalars(select(StripeEvent.outcome).where(
        StripeEvent.type.like("charge.dispute.%"))))
    assert outcomes == {"unknown_deposit"}


def test_a_dispute_naming_only_its_charge_is_matched_through_stripe(
        client, app_context, stripe_fake):
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "300.00")
    dispute = {**stripe_fake.dispute(deposit.payment_intent_id, 50_00), "payment_intent": None}
    assert send(client, stripe_fake, "created", dispute) == "dispute_withdrawn"
    assert stripe_fake.received("GET", f"/v1/charges/{dispute['charge']}")
    assert money(deposit.owner_id)["escrow"] == 250_00
    assert_ledger_ok()


def test_a_dispute_that_overtakes_its_payment_waits_for_the_credit(
        client, app_context, stripe_fake):
    make_user("advertiser", email="adv@example.com")
    client.login("adv@example.com")
    client.submit("/balance/deposit", {"amount": "200.00", "currency": "USD",
                                       "confirmed": "yes"}, page="/balance")
    deposit = db.session.scalar(select(Deposit))
    session = stripe_fake.complete_checkout(deposit.checkout_session_id)
    event = stripe_fake.event("charge.dispute.created",
                              stripe_fake.dispute(session["payment_intent"], 80_00))
    refused = deliver(client, event)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "60"
    assert refused.json["error"]["code"] == "deposit_not_credited"
    assert db.session.scalar(select(func.count(StripeEvent.id))) == 0  # Stripe sends it again
    deliver(client, stripe_fake.event("checkout.session.completed", session))
    assert deliver(client, event).json["outcome"] == "dispute_withdrawn"
    assert money(deposit.owner_id)["escrow"] == 120_00
    assert_ledger_ok()


def test_an_advertiser_sees_only_their_own_disputes(client, app_context, stripe_fake):
    mine = deposit_paid(client, stripe_fake, "a@example.com", "500.00")
    theirs = deposit_paid(client, stripe_fake, "b@example.com", "700.00")
    send(client, stripe_fake, "created", stripe_fake.dispute(mine.payment_intent_id, 123_45))
    own = client.get("/balance").get_data(as_text=True)  # b is signed in
    assert "Chargebacks" not in own and "$123.45" not in own
    assert client.get(f"/balance/deposits/{mine.id}").status_code == 404
    assert client.get(f"/balance/deposits/{theirs.id}").status_code == 200
    assert client.get("/admin/payouts/disputes").status_code in (302, 403)
    sign_in(client, "a@example.com")
    page = client.get("/balance").get_data(as_text=True)
    assert "Chargebacks" in page and "$123.45" in page


def test_the_operator_page_lists_open_disputes_first(client, app_context, stripe_fake):
    decided = deposit_paid(client, stripe_fake, "a@example.com", "500.00")
    undecided = deposit_paid(client, stripe_fake, "b@example.com", "700.00")
    won = stripe_fake.dispute(decided.payment_intent_id, 100_00)
    send(client, stripe_fake, "created", won)
    send(client, stripe_fake, "closed", won, status="won")
    still_open = stripe_fake.dispute(undecided.payment_intent_id, 200_00, reason="duplicate")
    send(client, stripe_fake, "created", still_open)
    make_user("admin", email="ops@example.com")
    sign_in(client, "ops@example.com")
    page = client.get("/admin/payouts/disputes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert still_open["id"] in html and won["id"] in html
    assert html.index(still_open["id"]) < html.index(won["id"])  # open ones first
    assert html.count('class="open-dispute"') == 1
    assert "duplicate" in html and "$200.00" in html and "needs a response" in html


def test_the_ledger_check_sees_a_dispute_row_that_disagrees_with_the_ledger(
        client, app_context, stripe_fake):
    """`disputes_booked` and `disputed_accounts` relate the rows to their postings."""
    deposit = deposit_paid(client, stripe_fake, "adv@example.com", "1000.00")
    send(client, stripe_fake, "created", stripe_fake.dispute(deposit.payment_intent_id, 300_00))
    row = the_dispute()
    row.funds = "reinstated"  # the row forgets the money is still in dispute
    db.session.commit()
    failing = [check.name for check in check_ledger().checks if not check.ok]
    assert failing == ["disputes_booked", "disputed_accounts"]


@pytest.mark.sqlite
def test_a_chargeback_larger_than_the_escrow_on_sqlite(sqlite_app):
    """The run-by-default database: migration 0025 rebuilt `ledger_accounts` there, and the
    same steps hold without row locks."""
    app = sqlite_app

    def event(type_: str, **dispute) -> str:
        obj = {"id": "dp_1", "object": "dispute", "payment_intent": "pi_1", "amount": 100_00,
               "currency": "usd", "status": "needs_response", "reason": "fraudulent", **dispute}
        outcome = handle_event({"id": f"evt_{type_}_{obj['status']}", "type": type_,
                                "data": {"object": obj}})
        db.session.commit()
        return outcome

    with app.app_context():
        advertiser = make_user("advertiser")
        card_deposit(advertiser, 100_00, "pi_1")
        escrow.hold_conversion(1, advertiser.id, make_user("publisher").id, "USD", 90_00, 0)
        db.session.commit()
        assert event("charge.dispute.created") == "dispute_withdrawn"
        assert event("charge.dispute.funds_withdrawn") == "already_withdrawn"
        assert money(advertiser.id) == {"escrow": 0, "disputed": 100_00, "revenue": -90_00,
                                        "clearing": -100_00}
        assert event("charge.dispute.closed", status="lost") == "dispute_lost"
        card_deposit(advertiser, 150_00, "pi_2")  # repays the 90.00 first
        assert money(advertiser.id) == {"escrow": 60_00, "disputed": 0, "revenue": 0,
                                        "clearing": -150_00}
        assert_ledger_ok()
