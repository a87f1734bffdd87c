"""Small helpers for money tests: fund an escrow straight through the ledger, read balances,
earn approved money as a publisher, connect a payout account."""

import itertools
import re
import threading

from sqlalchemy import select

from cpa_network.accounts.models import User
from cpa_network.extensions import db
from payouts import connect, escrow, ledger
from payouts.models import AccountKind, Payout, PayoutAccount
from tests.factories import make_user


def fund_escrow(advertiser_id: int, amount: int, currency: str = "USD", key: str | None = None):
    """Money in from outside: gateway clearing -> the advertiser's escrow, committed."""
    txn = ledger.post_transaction(
        key or f"test-fund:{advertiser_id}:{currency}:{amount}",
        ledger.transfer(ledger.network_account(AccountKind.GATEWAY_CLEARING, currency),
                        ledger.account(AccountKind.ADVERTISER_ESCROW, advertiser_id, currency),
                        amount),
        "deposit", {"advertiser": advertiser_id})
    db.session.commit()
    return txn


def balances(owner_id: int, currency: str = "USD") -> dict[str, int]:
    """Every non-zero balance of one owner, by kind."""
    found = {kind.value: ledger.balance(kind, owner_id, currency) for kind in AccountKind}
    return {kind: amount for kind, amount in found.items() if amount}


_conversions = itertools.count(1)


def earn(publisher_id: int, amount: int, currency: str = "USD") -> int:
    """Approved earnings for a publisher, the real way: an advertiser's escrow, a held
    conversion (a made-up id: conversions are another package's), its approval. Committed."""
    advertiser_id = make_user("advertiser").id
    conversion_id = next(_conversions)
    fund_escrow(advertiser_id, amount, currency, key=f"test-earn:{conversion_id}")
    escrow.hold_conversion(conversion_id, advertiser_id, publisher_id, currency, amount, 0)
    escrow.approve_conversion(conversion_id)
    db.session.commit()
    return conversion_id


def connected_publisher(email: str | None = None, earned: int = 0, currency: str = "USD",
                        **attrs) -> User:
    """A publisher with a sandbox payout account and `earned` available, committed."""
    publisher = make_user("publisher", email=email, **attrs)
    connect_account(publisher)
    if earned:
        earn(publisher.id, earned, currency)
    return publisher


def connect_account(publisher: User) -> str:
    """Connect `publisher`'s sandbox payout account (ready at once); its id."""
    connect.start_onboarding(publisher, "http://x/refresh", "http://x/return")
    db.session.commit()
    return db.session.get(PayoutAccount, publisher.id).external_id


def connect_stripe_account(publisher: User, fake) -> str:
    """Onboard `publisher` at the Stripe fake and refresh the account (as the return URL does)."""
    connect.start_onboarding(publisher, "http://x/refresh", "http://x/return")
    db.session.commit()
    account_id = db.session.get(PayoutAccount, publisher.id).external_id
    fake.complete_onboarding(account_id)
    connect.refresh_account(publisher.id)
    db.session.commit()
    return account_id


def the_payout(payout_id: int | None = None) -> Payout:
    """A payout as the database has it now (the only one, if no id)."""
    db.session.expire_all()
    if payout_id is None:
        return db.session.scalar(select(Payout))
    return db.session.get(Payout, payout_id)


INPUT_RE = re.compile(r"<input\b[^>]*>")
ATTRIBUTE_RE = re.compile(r'([a-z_]+)="([^"]*)"')


def confirmation_form(client, url: str, amount: str, page: str, currency: str = "USD") -> dict:
    """Ask for `amount` and return what the confirmation page's form would post, as is."""
    asked = client.submit(url, {"amount": amount, "currency": currency}, page=page)
    assert asked.status_code == 200, asked.get_data(as_text=True)[:500]
    html = asked.get_data(as_text=True)
    form = html[html.index('class="confirm-actions"'):]
    fields = [dict(ATTRIBUTE_RE.findall(tag))
              for tag in INPUT_RE.findall(form[:form.index("</form>")])]
    return {f["name"]: f.get("value", "") for f in fields if f.get("type") == "hidden"}


def ask_and_confirm(client, url: str, amount: str, page: str, currency: str = "USD"):
    """Ask for `amount` as the page does; if the confirmation page comes, press its button.
    A refusal of the ask itself (a bad amount) is returned as it is."""
    asked = client.submit(url, {"amount": amount, "currency": currency}, page=page)
    if asked.status_code != 200 or 'class="confirm-actions"' not in asked.get_data(as_text=True):
        return asked
    return client.post(url, data=confirmation_form(client, url, amount, page, currency))


def run_together(*functions, timeout: float = 30) -> None:
    """Run each function in a thread of its own, all at once, and wait for them."""
    threads = [threading.Thread(target=function) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
