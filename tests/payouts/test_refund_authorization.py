"""An operator retries or settles an escrow refund under review by hand (that no one else can
is the authorization matrix's part: tests/security/refund_cases.py)."""

import pytest

from cpa_network.extensions import db
from tests.factories import make_user
from tests.security import refund_cases
from tests.security.test_authorization_matrix import Case


@pytest.mark.parametrize("case", refund_cases.cases(Case), ids=lambda c: c.endpoint)
def test_an_operator_acts_on_a_refund(case, client, app_context):
    url, _method, data, unchanged = case.make(make_user("admin", email="ops@example.com"))
    client.login("ops@example.com")
    assert client.submit(url, data, page="/admin/payouts/refunds").status_code == 302
    db.session.expire_all()
    assert not unchanged()
