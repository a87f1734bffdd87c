"""The run-by-default database: the ledger's portable path and append-only triggers on SQLite."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cpa_network.extensions import db
from payouts import escrow
from payouts.invariants import check_ledger
from payouts.ledger import IdempotencyConflict, InsufficientFunds
from tests.factories import make_user
from tests.payouts.helpers import fund_escrow


@pytest.mark.sqlite
def test_ledger_on_sqlite(sqlite_app):
    app = sqlite_app
    with app.app_context():
        advertiser, publisher = make_user("advertiser"), make_user("publisher")
        first = fund_escrow(advertiser.id, 100_00, key="deposit:1")
        assert fund_escrow(advertiser.id, 100_00, key="deposit:1").id == first.id
        with pytest.raises(IdempotencyConflict):
            fund_escrow(advertiser.id, 5_00, key="deposit:1")
        escrow.hold_conversion(1, advertiser.id, publisher.id, "USD", payout=80_00, fee=10_00)
        with pytest.raises(InsufficientFunds):
            escrow.hold_conversion(2, advertiser.id, publisher.id, "USD", payout=20_00, fee=0)
        escrow.approve_conversion(1)
        db.session.commit()
        assert escrow.escrow_balance(advertiser.id, "USD") == 10_00
        assert check_ledger().ok
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE ledger_postings SET amount = 1"))
        db.session.rollback()
