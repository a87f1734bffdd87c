"""The rating formula: pure arithmetic on weighted counts, no database (README, "Ratings").

Every input is a recency-weighted sum over the window (the newest third of the window counts
fully, the middle third half, the oldest a quarter). Confidence comes from two tools:
Bayesian shrinkage toward the network average (CR and EPC: `PRIOR_CLICKS` imaginary clicks at
the network's rate are added to every publisher) and Wilson lower bounds (approval rate, clean
traffic), so one lucky click cannot outrank a long, steady record. Flagged clicks stay in every
denominator and rejected or fraudulent conversions in no numerator: neither can raise a score.
"""

import math
from dataclasses import dataclass

PRIOR_CLICKS = 300.0  # how many network-average clicks a publisher's own rates are blended with
WILSON_Z = 1.96  # 95 % one-sided-ish confidence for the lower bounds
VOLUME_FULL = 1000.0  # weighted approved conversions that earn every volume point
TENURE_FULL_DAYS = 365.0
FRAUD_PENALTY = 25.0  # points taken at a 100 % fraud share of decided conversions

# Part name -> the most points it gives. The sum is 100.
WEIGHTS = {"approval": 20.0, "cr": 20.0, "epc": 20.0, "volume": 20.0, "clean": 10.0,
           "tenure": 10.0}


@dataclass(frozen=True)
class RatingInputs:
    """A publisher's recency-weighted counts over the window.

    `clicks` counts every click, flagged ones too; `expected_clicks` is the approved payout
    expressed in clicks at each offer's network EPC (payout_o / EPC_o, summed), which makes
    earnings comparable across offers and currencies.
    """

    clicks: float = 0.0
    flagged: float = 0.0
    approved: float = 0.0
    rejected: float = 0.0
    fraud: float = 0.0
    expected_clicks: float = 0.0
    tenure_days: float = 0.0

    @property
    def decided(self) -> float:
        return self.approved + self.rejected


@dataclass(frozen=True)
class NetworkAverages:
    cr: float  # approved conversions per click, network-wide (same weights)


def wilson_lower(successes: float, trials: float, z: float = WILSON_Z) -> float:
    """The lower bound of the Wilson score interval: small samples are pulled toward 0."""
    if trials <= 0:
        return 0.0
    p = min(1.0, successes / trials)
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - margin) / denominator)


def relative(x: float) -> float:
    """A ratio to the network average mapped to 0..1: half at average, approaching 1 above."""
    return x / (x + 1.0) if x > 0 else 0.0


def shrunk_cr_ratio(inputs: RatingInputs, network: NetworkAverages) -> float:
    """The publisher's CR blended with PRIOR_CLICKS clicks at the network CR, over that CR."""
    if network.cr <= 0:
        return 1.0
    blended = (inputs.approved + PRIOR_CLICKS * network.cr) / (inputs.clicks + PRIOR_CLICKS)
    return blended / network.cr


def shrunk_epc_index(inputs: RatingInputs) -> float:
    """Earnings per click relative to what the same clicks earn network-wide (1.0 = average)."""
    return (inputs.expected_clicks + PRIOR_CLICKS) / (inputs.clicks + PRIOR_CLICKS)


def score_parts(inputs: RatingInputs, network: NetworkAverages) -> dict[str, float]:
    """Points per part (see WEIGHTS), and the fraud penalty as a negative part."""
    fractions = {
        "approval": wilson_lower(inputs.approved, inputs.decided),
        "cr": relative(shrunk_cr_ratio(inputs, network)),
        "epc": relative(shrunk_epc_index(inputs)),
        "volume": min(1.0, math.log10(1 + inputs.approved) / math.log10(1 + VOLUME_FULL)),
        "clean": wilson_lower(inputs.clicks - inputs.flagged, inputs.clicks),
        "tenure": min(1.0, max(0.0, inputs.tenure_days) / TENURE_FULL_DAYS),
    }
    parts = {name: round(WEIGHTS[name] * fraction, 2) for name, fraction in fractions.items()}
    fraud_share = inputs.fraud / inputs.decided if inputs.decided > 0 else 0.0
    parts["fraud"] = -round(FRAUD_PENALTY * min(1.0, fraud_share), 2)
    return parts


def score_of(parts: dict[str, float]) -> float:
    return round(min(100.0, max(0.0, sum(parts.values()))), 1)


def rank_scores(scores: dict[int, tuple[float, float]]) -> list[tuple[int, int]]:
    """(publisher id, rank) by score, best first; equal scores share a rank ("1, 2, 2, 4").
    `scores` maps publisher id -> (score, approved): among equals, more approved conversions
    list first, then the older account (lower id); the rank stays shared."""
    ordered = sorted(scores.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
    ranked, previous, rank = [], None, 0
    for position, (publisher_id, (score, _approved)) in enumerate(ordered, start=1):
        if score != previous:
            rank, previous = position, score
        ranked.append((publisher_id, rank))
    return ranked
