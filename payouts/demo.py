"""Demo steps, via the real services: advertisers top up escrow through the sandbox; a few
publishers connect sandbox payout accounts and withdraw."""

from cpa_network.demo import DemoContext
from payouts import deposits, refunds
from payouts.gateway import SandboxGateway, get_gateway

# Major units per deposit, per advertiser (index-aligned with accounts.demo.ADVERTISERS).
DEPOSITS = [(20_000, 15_000), (50_000,), (8_000, 4_000, 6_000), (12_500,), (30_000, 10_000)]
EURO_ADVERTISER = 3  # EduPro pays in euros


def fund_advertisers(context: DemoContext) -> None:
    """Sandbox deposits for each advertiser, and one partial withdrawal to show a refund."""
    sandbox = SandboxGateway()
    for index, advertiser in enumerate(context.made.get("advertisers", [])):
        currency = "EUR" if index == EURO_ADVERTISER else "USD"
        for major in DEPOSITS[index % len(DEPOSITS)]:
            cents = major * 100 + context.rng.choice((0, 0, 50))
            deposit = deposits.create_deposit(advertiser, cents, currency, gateway=sandbox)
            deposits.open_checkout(deposit, "", "", gateway=sandbox)
    advertisers = context.made.get("advertisers", [])
    if advertisers:
        for refund in refunds.withdraw_escrow(advertisers[0].id, 2_500_00, "USD"):
            refunds.send_to_gateway(refund.id, gateway=sandbox)


# Stand-in conversion ids, used only while no publisher has earnings of their own (before the
# conversions demo step exists): far above any id the demo's real conversions get.
STAND_IN_CONVERSIONS = 9_000_000
PAYING_PUBLISHERS = 6


def pay_publishers(context: DemoContext) -> None:
    """A few publishers connect (sandbox) payout accounts and withdraw, via the real services:
    paid payouts, one in flight (the worker pays it), one failed, weekly payouts turned on."""
    from payouts import connect, escrow, ledger, statements, transfers, withdrawals
    from payouts.models import AccountKind

    sandbox = SandboxGateway()
    if not get_gateway().is_sandbox:
        return  # the demo's payout accounts are sandbox ones
    publishers = context.made.get("publishers", [])[:PAYING_PUBLISHERS]
    advertisers = [a for i, a in enumerate(context.made.get("advertisers", []))
                   if i != EURO_ADVERTISER]
    for index, publisher in enumerate(publishers):
        connect.start_onboarding(publisher, "", "", gateway=sandbox)
        connect.save_settings(publisher.id, None, automatic=index % 3 == 0)
        if ledger.balance(AccountKind.PUBLISHER_AVAILABLE, publisher.id, "USD") < 400_00:
            for n in range(3):
                conversion = STAND_IN_CONVERSIONS + index * 10 + n
                advertiser = advertisers[(index + n) % len(advertisers)]
                payout = context.rng.choice((90_00, 150_00, 240_00))
                escrow.hold_conversion(conversion, advertiser.id, publisher.id, "USD", payout,
                                       payout // 10)
                escrow.approve_conversion(conversion)
        available = statements.publisher_balances(publisher.id, "USD")["available"]
        first = withdrawals.request_withdrawal(publisher, available // 2, "USD")
        if index == 1:
            continue  # left requested: in flight until the worker pays it
        transfers.claim([first.id])
        if index == 2:
            transfers.fail_payout(first, "balance_insufficient", "demo: platform balance too low")
            continue
        transfers.submit(first.id, True, sandbox)
        transfers.settle_paid([first.id])
