"""The similar-documents benchmark's measures (tests/bench/similar.py), on rankings written
here: what its printed figures mean is checked, not assumed."""

from __future__ import annotations

import pytest

from tests.bench.similar import DEPENDENT, _measures


def test_a_perfect_ranking_has_no_unrelated_pair_out_of_order():
    got = _measures(["a", "b", "x"], relevant={"a", "b"}, unrelated={"x", "y"})

    assert got == {
        "recall@10": 1.0,
        "precision@R": 1.0,
        "MRR": 1.0,
        "unrelated@R": 0.0,
        "misordered": 0.0,
    }


def test_unrelated_documents_above_relevant_ones_are_counted_per_pair():
    # x above both relevant ones (2 pairs wrong), y absent like b (1 pair a tie: a half).
    got = _measures(["x", "a"], relevant={"a", "b"}, unrelated={"x", "y"})

    assert got["recall@10"] == 0.5
    assert got["precision@R"] == 0.5
    assert got["MRR"] == 0.5
    assert got["unrelated@R"] == 0.5
    assert got["misordered"] == pytest.approx((2 + 0.5) / 4)


def test_only_the_first_ten_count():
    ranked = [f"u{n}" for n in range(10)] + ["a"]
    got = _measures(ranked, relevant={"a"}, unrelated={f"u{n}" for n in range(10)})

    assert got["recall@10"] == got["MRR"] == 0.0
    assert got["misordered"] == 1.0


@pytest.mark.parametrize(
    ("claim", "dependent"),
    [
        ("1. A hinge comprising a pin.", False),
        ("2. The hinge of claim 1, wherein the pin is steel.", True),
        ("6. The method according to any one of claims 1 to 5.", True),
        ("請求項１に記載の練り製品管理装置において、", True),
        ("コンピュータが、水産物の練り製品の製造工程に含まれる", False),
    ],
)
def test_dependent_claims_are_told_from_independent_ones(claim, dependent):
    assert bool(DEPENDENT.search(claim)) is dependent
