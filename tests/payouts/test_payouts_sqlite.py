"""The run-by-default database: a sandbox payout from request to paid, and the reconciler, on
SQLite (no row locks there: SQLite serializes writers instead)."""

import pytest
import redis
from flask_migrate import upgrade

from cpa_network.app import create_app
from cpa_network.extensions import db
from payouts import reconcile, transfers, withdrawals
from payouts.invariants import check_ledger
from tests.payouts.helpers import connected_publisher, the_payout


@pytest.mark.sqlite
def test_a_sandbox_payout_on_sqlite(tmp_path, redis_url):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'db.sqlite3'}",
                     REDIS_URL=redis_url, RATELIMIT_STORAGE_URI=redis_url)
    with app.app_context():
        upgrade()
        publisher = connected_publisher(earned=90_00)
        payout_id = withdrawals.request_withdrawal(publisher, 90_00, "USD").id
        db.session.commit()
        assert transfers.process_payout(payout_id) == "paid"
        assert transfers.process_payout(payout_id) == "paid"  # twice: nothing more
        assert the_payout(payout_id).transfer_id == f"sandbox_tr_{payout_id}"
        assert reconcile.reconcile_payouts() == {}
        assert check_ledger().ok
        db.session.remove()
        db.engine.dispose()
    redis.Redis.from_url(redis_url).flushdb()
