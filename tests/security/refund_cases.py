"""Authorization cases for the operator's refund actions (test_authorization_matrix.py): only
an operator may retry or settle a refund by hand."""

from cpa_network.extensions import db
from payouts import escrow, refunds
from payouts.models import EscrowRefund
from tests.factories import make_user


def _refund_under_review(action: str, data: dict):
    def make(owner):
        from payouts.deposits import create_deposit, open_checkout
        from payouts.gateway import SandboxGateway

        advertiser = make_user("advertiser")
        open_checkout(create_deposit(advertiser, 100_00, "USD", gateway=SandboxGateway()),
                      "", "", gateway=SandboxGateway())
        (refund,) = refunds.withdraw_escrow(advertiser.id, 40_00, "USD")
        refunds.stop_for_review(refund, "charge_already_refunded: test")
        db.session.commit()
        refund_id, advertiser_id = refund.id, advertiser.id

        def unchanged() -> bool:
            row = db.session.get(EscrowRefund, refund_id)
            return (row.status, row.needs_review) == ("pending", True) \
                and escrow.escrow_balance(advertiser_id, "USD") == 60_00

        return f"/admin/payouts/refunds/{refund_id}/{action}", "POST", data, unchanged
    return make


def cases(case):
    return [case("payouts_admin.retry_refund", ("admin",), ("advertiser",),
                 _refund_under_review("retry", {})),
            case("payouts_admin.resolve_refund", ("admin",), ("advertiser",),
                 _refund_under_review("resolve", {"outcome": "returned"}))]
