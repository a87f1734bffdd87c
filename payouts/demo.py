"""Demo step: advertisers fund their escrow (placeholder)."""


def fund_advertisers(context) -> None:
    return None
