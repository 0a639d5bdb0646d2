from __future__ import annotations

import math

import numpy as np
import pytest

from experiments._cohorts import cohort_seeds, map_cohorts


def draw(seed: int) -> float:
    """A cohort stand-in: its result depends on its own seed only."""
    return float(np.random.default_rng(seed).standard_normal(5).sum())


# ------------------------------------------------------------------- seeds
def test_cohort_seeds_deterministic_prefix_stable_and_distinct():
    seeds = cohort_seeds(123, 50)
    assert seeds == cohort_seeds(123, 50)
    assert cohort_seeds(123, 10) == seeds[:10]  # growing n keeps the head
    assert len(set(seeds)) == 50
    assert all(isinstance(s, int) and 0 <= s < 2**64 for s in seeds)
    assert set(seeds).isdisjoint(cohort_seeds(124, 50))
    assert set(seeds).isdisjoint(cohort_seeds(123, 50, stream=1))
    assert cohort_seeds(5, 0) == []


def test_cohort_seeds_give_independent_streams():
    # Means of 200 first draws from distinct child seeds: SD 1/sqrt(200) = 0.071; with
    # independent streams their correlation with the next seed's draws is ~N(0, 1/200).
    first = np.array([np.random.default_rng(s).standard_normal() for s in cohort_seeds(9, 200)])
    assert abs(first.mean()) < 4 / math.sqrt(200)
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 4 / math.sqrt(199)


@pytest.mark.parametrize(("args", "match"), [
    ((-1, 3), "seed"), ((1, -3), "n"), ((1, 3.0), "n"), ((True, 3), "seed"),
])
def test_cohort_seeds_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        cohort_seeds(*args)
    with pytest.raises(ValueError, match="stream"):
        cohort_seeds(1, 1, stream=-1)


# ---------------------------------------------------------------- parallel
def test_map_cohorts_results_do_not_depend_on_n_jobs():
    seeds = cohort_seeds(2024, 12)
    serial = map_cohorts(draw, seeds, n_jobs=1)
    assert serial == [draw(s) for s in seeds]
    assert map_cohorts(draw, seeds, n_jobs=2) == serial
    # reversing the tasks reverses the results: each depends only on its own seed
    assert map_cohorts(draw, seeds[::-1], n_jobs=2) == serial[::-1]


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True])
def test_map_cohorts_rejects_bad_n_jobs(n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        map_cohorts(draw, [1], n_jobs=n_jobs)
