from __future__ import annotations

import math

import numpy as np
import pytest

from experiments.harness.cohorts import map_cohorts
from features.checks import spawn_seeds
from features.errors import InputError


def draw(seed: int) -> float:
    """A cohort stand-in: its result depends on its own seed only."""
    return float(np.random.default_rng(seed).standard_normal(5).sum())


# ------------------------------------------------------------------- seeds
# Cohort seeds of every study: spawn_seeds(seed, n, stream=(s,)), the one seeding scheme.
def test_cohort_seeds_are_the_children_of_the_seed_sequence_of_seed_and_stream():
    # the scheme the studies always used: child i of SeedSequence(seed, spawn_key=(stream,))
    for seed, stream in ((20230822, 0), (20230822, 1), (7, 1000 * 226 + 13)):
        parent = np.random.SeedSequence(seed, spawn_key=(stream,))
        expected = [int(c.generate_state(1, dtype=np.uint64)[0]) for c in parent.spawn(4)]
        assert spawn_seeds(seed, 4, stream=(stream,)) == expected


def test_cohort_seeds_deterministic_prefix_stable_and_distinct():
    seeds = spawn_seeds(123, 50, stream=(0,))
    assert seeds == spawn_seeds(123, 50, stream=(0,))
    assert spawn_seeds(123, 10, stream=(0,)) == seeds[:10]  # growing n keeps the head
    assert len(set(seeds)) == 50
    assert all(isinstance(s, int) and 0 <= s < 2**64 for s in seeds)
    assert set(seeds).isdisjoint(spawn_seeds(124, 50, stream=(0,)))
    assert set(seeds).isdisjoint(spawn_seeds(123, 50, stream=(1,)))
    assert spawn_seeds(5, 0, stream=(0,)) == []


def test_cohort_seeds_give_independent_streams():
    # Means of 200 first draws from distinct child seeds: SD 1/sqrt(200) = 0.071; with
    # independent streams their correlation with the next seed's draws is ~N(0, 1/200).
    first = np.array([np.random.default_rng(s).standard_normal()
                      for s in spawn_seeds(9, 200, stream=(0,))])
    assert abs(first.mean()) < 4 / math.sqrt(200)
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 4 / math.sqrt(199)


@pytest.mark.parametrize(("args", "match"), [
    ((-1, 3), "seed"), ((1, -3), "n"), ((1, 3.0), "n"), ((True, 3), "seed"),
])
def test_cohort_seeds_reject_bad_input(args, match):
    with pytest.raises(InputError, match=match):
        spawn_seeds(*args, stream=(0,))
    with pytest.raises(InputError, match="stream"):
        spawn_seeds(1, 1, stream=(-1,))


# ---------------------------------------------------------------- parallel
def test_map_cohorts_results_do_not_depend_on_n_jobs():
    seeds = spawn_seeds(2024, 12, stream=(0,))
    serial = map_cohorts(draw, seeds, n_jobs=1)
    assert serial == [draw(s) for s in seeds]
    assert map_cohorts(draw, seeds, n_jobs=2) == serial
    # reversing the tasks reverses the results: each depends only on its own seed
    assert map_cohorts(draw, seeds[::-1], n_jobs=2) == serial[::-1]


@pytest.mark.parametrize("n_jobs", [0, -2, 1.5, True])
def test_map_cohorts_rejects_bad_n_jobs(n_jobs):
    with pytest.raises(ValueError, match="n_jobs"):
        map_cohorts(draw, [1], n_jobs=n_jobs)
