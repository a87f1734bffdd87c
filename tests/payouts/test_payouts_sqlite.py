"""The run-by-default database: a sandbox payout from request to paid, and the reconciler, on
SQLite (no row locks there: SQLite serializes writers instead)."""

import pytest

from cpa_network.extensions import db
from payouts import reconcile, transfers, withdrawals
from payouts.invariants import check_ledger
from tests.payouts.helpers import connected_publisher, the_payout


@pytest.mark.sqlite
def test_a_sandbox_payout_on_sqlite(sqlite_app):
    app = sqlite_app
    with app.app_context():
        publisher = connected_publisher(earned=90_00)
        payout_id = withdrawals.request_withdrawal(publisher, 90_00, "USD").id
        db.session.commit()
        assert transfers.process_payout(payout_id) == "paid"
        assert transfers.process_payout(payout_id) == "paid"  # twice: nothing more
        assert the_payout(payout_id).transfer_id == f"sandbox_tr_{payout_id}"
        assert reconcile.reconcile_payouts() == {}
        assert check_ledger().ok
