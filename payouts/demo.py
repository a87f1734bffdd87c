"""Demo step: every demo advertiser tops up escrow through the sandbox, via the real services."""

from cpa_network.demo import DemoContext
from payouts import deposits, refunds
from payouts.gateway import SandboxGateway

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
