from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from experiments import _realdata_figures
from experiments._realdata_figures import plot_share_heatmaps

NAMES = ["sad", "worry"]


def edges() -> pd.DataFrame:
    rows = [(period, s, t, 0.1 * (i + 1), 40 + 10 * (period == "post"))
            for period in ("pre", "post")
            for i, (s, t) in enumerate((s, t) for s in NAMES for t in NAMES)]
    return pd.DataFrame(rows, columns=["period", "source", "target", "share", "persons"])


def test_share_heatmaps_one_panel_per_period(tmp_path, monkeypatch):
    captured = []
    original = _realdata_figures.save_figure

    def spy(fig: Figure, path, **kwargs):
        captured.append(fig)
        return original(fig, path, **kwargs)

    monkeypatch.setattr(_realdata_figures, "save_figure", spy)
    table = edges()
    table = table.drop(index=table.index[-1])  # a missing link stays blank
    path = plot_share_heatmaps(table, "share", "persons", "shares", tmp_path / "h.png")
    assert path == tmp_path / "h.png" and path.read_bytes().startswith(b"\x89PNG")
    fig = captured[0]
    panels = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["pre (lag 1), 40 persons",
                                                "post (lag 1), 50 persons"]
    pre = np.asarray(panels[0].images[0].get_array())
    # rows = source, columns = target, in sorted name order
    expected = table[table["period"] == "pre"].pivot_table(
        index="source", columns="target", values="share").reindex(index=NAMES, columns=NAMES)
    np.testing.assert_allclose(pre, expected.to_numpy())
    post = np.asarray(panels[1].images[0].get_array(), dtype=float)
    assert np.isnan(post[1, 1]) and np.isfinite(np.delete(post.ravel(), 3)).all()
    texts = {t.get_text() for t in panels[0].texts}
    assert texts == {"10%", "20%", "30%", "40%"}
    assert fig.get_suptitle() == "shares"
