"""Authorization cases for the referral program and exchange routes (see
test_authorization_matrix)."""

from sqlalchemy import func, select

from cpa_network.extensions import db
from payouts import commissions
from publishers import exchange
from publishers.exchange_models import Lot, LotSale
from tests.factories import make_user
from tests.publishers.exchange_helpers import make_referral, sold

PUBLIC_ROUTES = {
    "referrals.qr": "`kind` is an image format; the QR is always of the viewer's own invite link",
}


def _lot(owner, withdrawn: bool):
    lot = exchange.list_referral(owner, make_referral(owner).id, 20_00, "USD")
    db.session.commit()
    if withdrawn:
        exchange.withdraw_lot(owner, lot.id)
        db.session.commit()
    return lot.id


def _status(lot_id):
    return db.session.get(Lot, lot_id).status


def _withdrawn_lot(path, method="GET"):
    """The seller's withdrawn lot: nobody else may see or buy it."""
    def make(owner):
        lot_id = _lot(owner, withdrawn=True)
        return (path.format(lot_id), method, {},
                lambda: db.session.scalar(select(func.count(LotSale.id))) == 0)
    return make


def _top_up_for_withdrawn_lot(owner):
    """Only a lot the user may see can be topped up for: nobody else's withdrawn one."""
    from payouts.models import Deposit

    lot_id = _lot(owner, withdrawn=True)
    return (f"/exchange/lots/{lot_id}/top-up", "POST",
            {"amount": "10", "currency": "USD", "confirmed": "yes"},
            lambda: db.session.scalar(select(func.count(Deposit.id))) == 0)


def _listed_lot(path):
    def make(owner):
        lot_id = _lot(owner, withdrawn=False)
        return path.format(lot_id), "POST", {}, lambda: _status(lot_id) == "listed"
    return make


def _own_purchase(path, method="GET", data=None):
    """A purchase the owner made; only its buyer and seller may see it, only the buyer dispute."""
    def make(owner):
        sale_id, *_ = sold()
        sale = db.session.get(LotSale, sale_id)
        sale.buyer_id = owner.id  # the owner is the buyer (the referral's upline is theirs too)
        sale.referral.referred_by_id = owner.id
        db.session.commit()
        return (path.format(sale_id), method, data or {},
                lambda: db.session.get(LotSale, sale_id).status == "in_guarantee")
    return make


def _disputed(owner):
    sale_id, _, _, buyer = sold()
    exchange.open_dispute(buyer, sale_id, "broken")
    db.session.commit()
    return (f"/admin/exchange/sales/{sale_id}/resolve", "POST", {"decision": "refund"},
            lambda: db.session.get(LotSale, sale_id).status == "disputed")


def _own_referral(owner, path="/referrals/{}/refback", method="POST",
                  data=(("refback", "50"),)):
    referral = make_user("publisher", upline=owner)
    return (path.format(referral.id), method, dict(data),
            lambda: commissions.refback_of(referral.id) == 0)


def cases(case):
    return [
        case("exchange.lot", ("publisher",), ("advertiser",),
             _withdrawn_lot("/exchange/lots/{}")),
        case("exchange.buy", ("publisher",), ("advertiser",),
             _withdrawn_lot("/exchange/lots/{}/buy", "POST")),
        case("exchange.top_up", ("publisher",), ("advertiser",), _top_up_for_withdrawn_lot),
        case("exchange.withdraw", ("publisher",), ("advertiser",),
             _listed_lot("/exchange/lots/{}/withdraw")),
        case("exchange.sale", ("publisher",), ("advertiser",),
             _own_purchase("/exchange/sales/{}")),
        case("exchange.dispute", ("publisher",), ("advertiser",),
             _own_purchase("/exchange/sales/{}/dispute", "POST", {"reason": "mine"})),
        case("exchange_admin.resolve", ("admin",), ("advertiser",), _disputed),
        case("referrals.refback", ("publisher",), ("advertiser",), _own_referral),
        case("publishers_api.get_lot", ("publisher",), ("advertiser",),
             _withdrawn_lot("/api/v1/lots/{}")),
        case("publishers_api.buy_lot", ("publisher",), ("advertiser",),
             _withdrawn_lot("/api/v1/lots/{}/buy", "POST")),
        case("publishers_api.withdraw_lot", ("publisher",), ("advertiser",),
             _listed_lot("/api/v1/lots/{}/withdraw")),
        case("publishers_api.get_sale", ("publisher",), ("advertiser",),
             _own_purchase("/api/v1/sales/{}")),
        case("publishers_api.dispute_sale", ("publisher",), ("advertiser",),
             _own_purchase("/api/v1/sales/{}/dispute", "POST", {"reason": "mine"})),
        case("publishers_api.set_refback", ("publisher",), ("advertiser",),
             lambda owner: _own_referral(owner, "/api/v1/referrals/{}/refback", "PUT",
                                         (("refback_percent", 50),))),
    ]
