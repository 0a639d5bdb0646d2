"""Shared fixtures: plotting (tests/causal/plotting/), a module's simulated cohort and its
PanelPCMCI fit, link tables of the graph tests and a local Dask cluster
(tests/causal/resampling/)."""

from __future__ import annotations

import errno
import itertools
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from causal import Links
from causal.plotting import graphs as plotting
from causal.plotting import networks as plotting_networks
from causal.plotting import studies as plotting_studies

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_pixels(path: Path) -> np.ndarray:
    """The decoded RGB pixels of a PNG, floats in [0, 1], shape (height, width, 3)."""
    assert path.read_bytes().startswith(PNG_MAGIC)
    return imread(path)[..., :3]


def _ink(pixels: np.ndarray) -> float:
    """Share of pixels that are not the white background."""
    return float(np.mean(np.any(pixels < 0.95, axis=-1)))


def _check_files(paths: list[Path], stem: Path) -> str:
    """Both files exist, are valid PNG / SVG and the PNG is not blank; return the SVG text."""
    assert [p.name for p in paths] == [f"{stem.name}.png", f"{stem.name}.svg"]
    png, svg = paths
    pixels = _png_pixels(png)
    assert pixels.std() > 0.01 and _ink(pixels) > 0.001, f"{png.name} is blank"
    assert svg.stat().st_size > 0
    root = ET.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg")
    return svg.read_text()


@pytest.fixture
def check_files() -> Callable[[list[Path], Path], str]:
    """``check_files(paths, stem)``: the PNG and SVG of ``stem`` are valid; returns the SVG."""
    return _check_files


@pytest.fixture
def png_pixels() -> Callable[[Path], np.ndarray]:
    """``png_pixels(path)``: decoded RGB pixels of a PNG file, floats in [0, 1]."""
    return _png_pixels


@pytest.fixture
def figures(monkeypatch) -> list:
    """Capture every Figure that passes through ``_save`` of the plotting modules."""
    captured = []
    for module in (plotting, plotting_networks, plotting_studies):
        original = module._save

        def spy(fig, path_stem, formats, _original=original):
            captured.append(fig)
            return _original(fig, path_stem, formats)

        monkeypatch.setattr(module, "_save", spy)
    return captured


# ------------------------------------------- a test module's simulated cohort
@pytest.fixture(scope="module")
def cohort(request) -> pd.DataFrame:
    """``simulate_cohort(**COHORT)`` with the ``COHORT`` dict of the requesting test module."""
    from features.simulate import simulate_cohort

    options = getattr(request.module, "COHORT", None)
    if options is None:
        raise LookupError(f"{request.module.__name__} uses the cohort fixture but sets no "
                          "COHORT = {...} of simulate_cohort arguments")
    return simulate_cohort(**options)


@pytest.fixture(scope="module")
def fitted(cohort):
    """``PanelPCMCI(tau_max=1)`` fitted on the module's :func:`cohort` (a module may override)."""
    from causal.discovery.estimator import PanelPCMCI

    return PanelPCMCI(tau_max=1).fit(cohort)


# ------------------------------------------- links of test_graph*.py
GRAPH_VARS = ("depression", "self_compassion", "fear_others")


def _make_links(significant: dict[tuple[str, str, int], float], *, variables=GRAPH_VARS,
                tau_max=2, contemporaneous: bool = False, undirected=(), ci=True) -> Links:
    """Every (source, target, lag) tested; the given ones significant with that value."""
    rows = []
    lags = range(0 if contemporaneous else 1, tau_max + 1)
    for s, t, k in itertools.product(variables, variables, lags):
        if k == 0 and s == t:
            continue
        value = significant.get((s, t, k), 0.01)
        sig = (s, t, k) in significant
        rows.append({"source": s, "target": t, "lag": k, "value": value,
                     "p_value": 0.001 if sig else 0.5, "significant": sig,
                     "ci_low": value - 0.05 if ci else np.nan,
                     "ci_high": value + 0.05 if ci else np.nan,
                     "directed": not (k == 0 and frozenset((s, t)) in undirected),
                     "n_samples": 200})
    return Links(table=pd.DataFrame(rows), variables=variables, tau_max=tau_max, alpha=0.05,
                 method="pcmciplus" if contemporaneous else "pcmci")


@pytest.fixture(scope="session")
def make_links() -> Callable[..., Links]:
    """``make_links({(source, target, lag): value, ...}, **options)``: a Links table over
    ``GRAPH_VARS`` with every link tested and the given ones significant (session-scoped,
    so usable in Hypothesis tests)."""
    return _make_links


@pytest.fixture
def graph_links() -> Links:
    """Lagged links with cross links both ways, two lags of one pair and an autoregression."""
    return _make_links({
        ("fear_others", "depression", 1): 0.12,
        ("fear_others", "depression", 2): -0.20,
        ("depression", "fear_others", 1): 0.08,
        ("depression", "depression", 1): 0.40,
    })


# ------------------------------------------------------------------ dask
#: Dask's default dashboard port; Jupyter and other dashboards hold it too.
DASHBOARD_PORT = 8787


@pytest.fixture
def dask_cluster() -> Iterator:
    """A two-worker ``LocalCluster`` on free ports only: scheduler and dashboard on port 0.

    Dask's defaults put the scheduler's HTTP server (dashboard) on 8787 and, when
    that is taken, warn (an error under ``filterwarnings = error``): the tests must
    pass on any machine. ``dashboard_address=None`` is not enough: it drops the
    dashboard pages but still serves ``/health`` and ``/metrics`` on 8787.
    """
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  scheduler_port=0, dashboard_address=":0",
                                  worker_dashboard_address=None) as cluster:
        yield cluster


@pytest.fixture
def port_8787_taken() -> Iterator[int]:
    """Hold 127.0.0.1:8787 (Dask's dashboard port) for the duration of the test.

    If something else already holds it, the port is taken all the same and the
    test runs as is; only a machine where binding fails for another reason skips.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", DASHBOARD_PORT))
            sock.listen()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                pytest.skip(f"cannot bind 127.0.0.1:{DASHBOARD_PORT} to take it: {exc}")
        yield DASHBOARD_PORT
