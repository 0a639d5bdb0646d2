"""plot_patients on segmented and day/beep data (issue 10: it crashed after discovery)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from causal.plotting.graphs import _patient_series, plot_patients
from features.simulate import simulate_ema


def test_day_beep_data_plot_with_blocks(tmp_path):
    df = simulate_ema("null", 3, 4, 5, missing=0.2, random_state=0)
    paths = plot_patients(df, id_col="person", time_col="beep", segments=["day"],
                          variables=["depression", "fear_others"], n_patients=2,
                          random_state=1, path_stem=tmp_path / "patients", formats=("png",))
    pixels = imread(paths[0])[..., :3]
    assert pixels.std() > 0.01


def test_without_segments_restarting_time_is_still_an_error(tmp_path):
    df = simulate_ema("null", 1, 2, 3, missing=0.0, random_state=0)
    with pytest.raises(ValueError, match="duplicated 'beep'"):
        plot_patients(df, id_col="person", time_col="beep", path_stem=tmp_path / "p",
                      variables=["depression"])


def test_blocks_are_laid_end_to_end_with_breaks():
    rows = pd.DataFrame({"day": [1, 1, 1, 2, 2], "beep": [1, 2, 4, 2, 3],
                         "x": [1.0, 2, 4, 5, 6]})
    series = _patient_series(rows, 1, "beep", ["x"], ["day"])
    # day 1 on beeps 1..4 (beep 3 missing: NaN), a break, day 2 shifted after it
    assert series.index.tolist() == [1, 2, 3, 4, 5.5, 6, 7]
    assert np.isnan(series["x"].to_numpy()[[2, 4]]).all()
    assert series["x"].to_numpy()[[0, 1, 3, 5, 6]].tolist() == [1, 2, 4, 5, 6]
