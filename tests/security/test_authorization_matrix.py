"""Authorization matrix: every route that takes an object id, tried by the wrong people.

The matrix is generated from the URL map: a new route with an id and no case here fails
`test_every_object_route_has_a_case`, so nobody can add one without saying who may use it.
For each case the object is made for its owner, then requested by another user of the same
role and by a user of the other role (and by an API key where the route is an API route):
the answer must be 403 or 404, never the data, and nothing may change.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from cpa_network.accounts.models import ApiKey, User
from cpa_network.extensions import db
from tests.factories import make_api_key, make_user
from tests.security import (
    conversion_cases,
    exchange_cases,
    jobs_cases,
    offers_cases,
    publishers_cases,
    refund_cases,
)

# Routes whose ids are public by design (tokens and codes people share), with the reason.
PUBLIC_OBJECT_ROUTES = {
    "accounts.invite": "an invite code is meant to be shared",
    "static": "static files",
}


@dataclass(frozen=True)
class Case:
    """`make()` builds the owner's object and returns (url, method, form data, unchanged())."""

    endpoint: str
    owner_roles: tuple[str, ...]
    other_roles: tuple[str, ...]
    make: Callable[[User], tuple[str, str, dict, Callable[[], bool]]]


def _revoke_key(owner):
    make_api_key(owner)
    key_id = db.session.scalar(select(ApiKey.id).where(ApiKey.user_id == owner.id))
    return (f"/account/api-keys/{key_id}/revoke", "POST", {},
            lambda: db.session.get(ApiKey, key_id).revoked_at is None)


def _admin_user_action(action):
    def make(owner):
        target = make_user("publisher")
        return (f"/admin/users/{target.id}/{action}", "POST", {"reason": "x"},
                lambda: db.session.get(User, target.id).blocked_at is None)
    return make


def _own_deposit(owner):
    """An advertiser's escrow deposit, or a publisher's top-up of their available balance."""
    from payouts.deposits import create_deposit, open_checkout
    from payouts.gateway import SandboxGateway
    from payouts.models import AccountKind

    kind = (AccountKind.ADVERTISER_ESCROW if owner.is_advertiser
            else AccountKind.PUBLISHER_AVAILABLE)
    made = open_checkout(create_deposit(owner, 10_00, "USD", gateway=SandboxGateway(),
                                        kind=kind), "", "", gateway=SandboxGateway())
    db.session.commit()
    return made


def _deposit_page(owner):
    made = _own_deposit(owner)
    return f"/balance/deposits/{made.id}", "GET", {}, lambda: True


def _deposit_api(owner):
    made = _own_deposit(owner)
    return f"/api/v1/deposits/{made.id}", "GET", {}, lambda: True


def _ledger_transaction(path):
    def make(owner):
        from payouts.models import LedgerTransaction

        _own_deposit(owner if owner.is_advertiser else make_user("advertiser"))
        txn_id = db.session.scalar(select(LedgerTransaction.id))
        return path.format(txn_id), "GET", {}, lambda: True
    return make


def _payout_of(publisher, failed: bool = False):
    from payouts import transfers, withdrawals
    from tests.payouts.helpers import connect_account, earn

    connect_account(publisher)
    earn(publisher.id, 60_00)
    payout = withdrawals.request_withdrawal(publisher, 60_00, "USD")
    if failed:
        transfers.claim([payout.id])
        transfers.fail_payout(payout, "balance_insufficient", "")
    db.session.commit()
    return payout


def _payout_view(path):
    def make(owner):
        payout = _payout_of(owner if owner.is_publisher else make_user("publisher"))
        return path.format(payout.id), "GET", {}, lambda: True
    return make


def _payout_retry(owner):
    from payouts.models import Payout

    payout = _payout_of(make_user("publisher"), failed=True)
    return (f"/admin/payouts/{payout.id}/retry", "POST", {},
            lambda: db.session.scalar(select(Payout).where(Payout.retry_of_id == payout.id))
            is None)


def _failed_job(action):
    def make(owner):
        from rq.job import Job

        from cpa_network.jobs import get_queue

        queue = get_queue("payouts")
        job = Job.create("math.sqrt", args=(-1,), connection=queue.connection, origin="payouts")
        job.save()
        queue.failed_job_registry.add(job, exc_string="ValueError: math domain error")
        return (f"/admin/queues/payouts/jobs/{job.id}{action}", "POST" if action else "GET", {},
                lambda: queue.failed_job_registry.count == 1)
    return make


CASES = [
    Case("payouts.deposit_detail", ("advertiser",), ("publisher",), _deposit_page),
    Case("api.get_deposit", ("advertiser",), ("publisher",), _deposit_api),
    Case("payouts.deposit_detail", ("publisher",), ("advertiser",), _deposit_page),
    Case("api.get_deposit", ("publisher",), ("advertiser",), _deposit_api),
    Case("payouts.transaction_detail", ("advertiser",), ("publisher",),
         _ledger_transaction("/balance/transactions/{}")),
    Case("ledger_admin.transaction", ("admin",), ("advertiser",),
         _ledger_transaction("/admin/ledger/transactions/{}")),
    Case("api.get_transaction", ("advertiser",), ("publisher",),
         _ledger_transaction("/api/v1/transactions/{}")),
    Case("earnings.payout_detail", ("publisher",), ("advertiser",),
         _payout_view("/earnings/payouts/{}")),
    Case("api.get_withdrawal", ("publisher",), ("advertiser",),
         _payout_view("/api/v1/withdrawals/{}")),
    Case("accounts.revoke_api_key", ("publisher",), ("advertiser",), _revoke_key),
    # Operator-only: any non-admin is refused.
    Case("admin.block", ("admin",), ("publisher",), _admin_user_action("block")),
    Case("admin.unblock", ("admin",), ("advertiser",), _admin_user_action("unblock")),
    *offers_cases.cases(Case),
    *conversion_cases.cases(Case),
    *jobs_cases.cases(Case),
    Case("payouts_admin.payout", ("admin",), ("publisher",), _payout_view("/admin/payouts/{}")),
    Case("payouts_admin.retry", ("admin",), ("publisher",), _payout_retry),
    *refund_cases.cases(Case),
    Case("queues_admin.job", ("admin",), ("advertiser",), _failed_job("")),
    Case("queues_admin.requeue", ("admin",), ("publisher",), _failed_job("/requeue")),
    *publishers_cases.cases(Case),
    *exchange_cases.cases(Case),
]
PUBLIC_OBJECT_ROUTES.update(offers_cases.PUBLIC_ROUTES)
PUBLIC_OBJECT_ROUTES.update(publishers_cases.PUBLIC_ROUTES)
PUBLIC_OBJECT_ROUTES.update(exchange_cases.PUBLIC_ROUTES)
PUBLIC_OBJECT_ROUTES.update(conversion_cases.PUBLIC_ROUTES)


def object_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint not in PUBLIC_OBJECT_ROUTES:
            yield rule


def test_every_object_route_has_a_case(app):
    covered = {case.endpoint for case in CASES}
    missing = sorted({rule.endpoint for rule in object_routes(app)} - covered)
    assert missing == [], f"add an authorization case for: {missing}"


def test_every_method_of_an_object_route_has_a_case(app):
    """A route that answers GET and POST needs a case for each: reading can leak too."""
    counts = Counter(case.endpoint for case in CASES)
    short = sorted(rule.endpoint for rule in object_routes(app)
                   if counts[rule.endpoint] < len(rule.methods - {"HEAD", "OPTIONS"}))
    assert short == [], f"add a case per method for: {short}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.endpoint)
@pytest.mark.parametrize("intruder", ["same_role", "other_role", "anonymous"])
def test_intruders_are_refused_and_change_nothing(case, intruder, client, app_context):
    owner = make_user(*case.owner_roles, email="owner@example.com")
    url, method, data, unchanged = case.make(owner)
    if intruder != "anonymous":
        roles = case.owner_roles if intruder == "same_role" else case.other_roles
        if roles == ("admin",):
            roles = ("publisher",)  # "another operator" is not an intruder
        make_user(*roles, email="intruder@example.com")
        client.login("intruder@example.com")
    if url.startswith("/api/"):
        key = make_api_key(db.session.scalar(select(User).where(
            User.email == ("intruder@example.com" if intruder != "anonymous" else
                           "owner@example.com"))))
        headers = {"Authorization": f"Bearer {key}"} if intruder != "anonymous" else {}
        response = client.open(url, method=method, json=data, headers=headers)
    elif method == "GET":
        response = client.get(url)
    else:
        response = client.submit(url, data, page="/account" if intruder != "anonymous" else "/")
    expected = (302, 401) if intruder == "anonymous" else (403, 404)
    assert response.status_code in expected, response.get_data(as_text=True)[:300]
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
    db.session.expire_all()
    assert unchanged()
