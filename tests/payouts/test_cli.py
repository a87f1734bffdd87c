"""`flask --app wsgi ledger check`: exit 0 on a sound ledger, non-zero with a report otherwise."""

from sqlalchemy import text

from cpa_network.extensions import db
from payouts import escrow, ledger
from payouts.invariants import CHECKS
from payouts.models import AccountKind
from tests.factories import make_user
from tests.payouts.helpers import fund_escrow


def test_ledger_check_passes_then_finds_a_corrupted_cached_balance(app, app_context):
    advertiser, publisher = make_user("advertiser"), make_user("publisher")
    fund_escrow(advertiser.id, 1_000_00)
    escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=80_00, fee=20_00)
    escrow.approve_conversion(1)
    db.session.commit()
    runner = app.test_cli_runner()

    clean = runner.invoke(args=["ledger", "check"])
    assert clean.exit_code == 0, clean.output
    assert "ledger check: OK" in clean.output and "FAIL" not in clean.output

    escrow_id = ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser.id, "USD").id
    db.session.execute(text("UPDATE ledger_accounts SET balance = balance + 1 WHERE id = :a"),
                       {"a": escrow_id})
    db.session.commit()
    broken = runner.invoke(args=["ledger", "check"])
    assert broken.exit_code == 1
    assert "[FAIL] cached balances equal the sum of their postings" in broken.output
    assert (f"account {escrow_id} (advertiser_escrow:{advertiser.id}:USD): cached balance "
            "90001, postings sum to 90000") in broken.output
    assert f"FAILED (1 of {len(CHECKS)} checks)" in broken.output


def test_ledger_check_ties_deposits_and_refunds_to_the_ledger(app, app_context):
    from payouts import deposits
    from payouts.gateway import SandboxGateway

    advertiser = make_user("advertiser")
    made = deposits.open_checkout(deposits.create_deposit(advertiser, 50_00, "USD",
                                                          gateway=SandboxGateway()),
                                  "", "", gateway=SandboxGateway())
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["ledger", "check"]).exit_code == 0
    db.session.execute(text("UPDATE deposits SET status = 'pending', refunded_amount = 7 "
                            "WHERE id = :d"), {"d": made.id})
    db.session.commit()
    broken = runner.invoke(args=["ledger", "check"])
    assert broken.exit_code == 1
    assert f"deposit {made.id} is pending but its credit transaction is" in broken.output
    assert f"deposit {made.id}: refunded_amount 7, refunds not failed sum to 0" in broken.output
