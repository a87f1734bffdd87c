"""The rating formula on crafted numbers: small samples, fraud, flagged clicks, ties."""

from publishers.rating_formula import (
    NetworkAverages,
    RatingInputs,
    rank_scores,
    score_of,
    score_parts,
    wilson_lower,
)

NETWORK = NetworkAverages(cr=0.03)


def score(**inputs) -> float:
    return score_of(score_parts(RatingInputs(**inputs), NETWORK))


def test_one_lucky_click_does_not_beat_a_long_record():
    lucky = score(clicks=1, approved=1, expected_clicks=33, tenure_days=30)
    steady = score(clicks=10_000, approved=300, expected_clicks=10_000, flagged=200,
                   rejected=20, tenure_days=30)
    assert steady > lucky + 20


def test_even_a_below_average_long_record_beats_one_lucky_conversion():
    network = NetworkAverages(cr=0.10)
    lucky = score_of(score_parts(RatingInputs(clicks=1, approved=1, expected_clicks=10), network))
    steady = score_of(score_parts(RatingInputs(clicks=10_000, approved=300,
                                               expected_clicks=3_000, rejected=60), network))
    assert steady > lucky


def test_fraud_never_helps():
    clean = score(clicks=5_000, approved=150, rejected=10, expected_clicks=5_000,
                  tenure_days=200)
    # The same record where more conversions came in but were rejected as fraud.
    fraud = score(clicks=5_000, approved=150, rejected=60, fraud=50, expected_clicks=5_000,
                  tenure_days=200)
    assert fraud < clean
    parts = score_parts(RatingInputs(clicks=100, approved=1, rejected=9, fraud=9), NETWORK)
    assert parts["fraud"] < 0


def test_flagged_clicks_never_help():
    clean = score(clicks=2_000, approved=60, expected_clicks=2_000, tenure_days=100)
    # 1,000 more clicks, all flagged (bots): they stay in the denominators.
    flagged = score(clicks=3_000, flagged=1_000, approved=60, expected_clicks=2_000,
                    tenure_days=100)
    assert flagged < clean


def test_rejections_lower_the_approval_part():
    approving = score_parts(RatingInputs(clicks=1000, approved=30, rejected=0), NETWORK)
    rejecting = score_parts(RatingInputs(clicks=1000, approved=30, rejected=30), NETWORK)
    assert rejecting["approval"] < approving["approval"]


def test_scores_stay_between_0_and_100():
    assert score() == score_of(score_parts(RatingInputs(), NETWORK)) >= 0
    best = score(clicks=100_000, approved=50_000, expected_clicks=10**7, tenure_days=3650)
    assert 90 < best <= 100
    worst = score(clicks=100, flagged=100, rejected=50, fraud=50)
    assert worst == 0


def test_no_network_conversions_is_neutral_not_a_crash():
    parts = score_parts(RatingInputs(clicks=10), NetworkAverages(cr=0.0))
    assert parts["cr"] == 10.0


def test_wilson_lower_bound_pulls_small_samples_down():
    assert wilson_lower(0, 0) == 0.0
    assert wilson_lower(1, 1) < 0.25
    assert wilson_lower(300, 300) > 0.98
    assert wilson_lower(30, 100) < 0.3


def test_equal_scores_share_a_rank_and_list_in_a_stable_order():
    ranked = rank_scores({7: (50.0, 10), 3: (50.0, 10), 5: (61.2, 1), 9: (50.0, 12),
                          1: (10.0, 0)})
    assert ranked == [(5, 1), (9, 2), (3, 2), (7, 2), (1, 5)]
