from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from features.samples import run_lengths


@given(st.lists(st.booleans(), max_size=60))
def test_run_lengths_matches_a_loop(flags):
    continues = np.array(flags, dtype=bool)
    expected, run = [], 0
    for i, c in enumerate(flags):
        run = run + 1 if c and i > 0 else 0  # the first row has nothing to continue
        expected.append(run)
    assert run_lengths(continues).tolist() == expected


def test_run_lengths_of_nothing_is_empty():
    assert run_lengths(np.array([], dtype=bool)).tolist() == []
