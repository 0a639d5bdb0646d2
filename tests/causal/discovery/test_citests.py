from __future__ import annotations

import importlib.util
import pickle
import sys
import types

import numpy as np
import pytest
from scipy import stats
from tigramite.independence_tests.independence_tests_base import CondIndTest
from tigramite.independence_tests.parcorr import ParCorr
from tigramite.independence_tests.robust_parcorr import RobustParCorr

from causal.discovery.citests import CI_TESTS, WITHIN_DF_TESTS, make_ci_test, within_df_loss

_CMIKNN_MODULE = "tigramite.independence_tests.cmiknn"
_GPDC_MODULE = "tigramite.independence_tests.gpdc"


def _hide_module(monkeypatch: pytest.MonkeyPatch, missing: str, importer: str) -> None:
    """Make ``import missing`` fail (as when the package is not installed) for ``importer``."""
    monkeypatch.setitem(sys.modules, missing, None)  # None in sys.modules -> ImportError
    monkeypatch.delitem(sys.modules, importer, raising=False)


def _stub_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    """Provide numba if it is not installed.

    tigramite's cmiknn only uses ``numba.jit(forceobj=True)``, i.e. object mode,
    whose semantics an identity decorator reproduces exactly.
    """
    if importlib.util.find_spec("numba") is not None:
        return
    fake = types.ModuleType("numba")
    fake.jit = lambda *args, **kwargs: (lambda func: func)
    monkeypatch.setitem(sys.modules, "numba", fake)
    monkeypatch.delitem(sys.modules, _CMIKNN_MODULE, raising=False)


def test_ci_test_names():
    assert CI_TESTS == ("parcorr", "parcorr-tigramite", "robust_parcorr", "gpdc", "cmiknn")


@pytest.mark.parametrize(("name", "cls"), [
    ("parcorr", CondIndTest),
    ("parcorr-tigramite", ParCorr),
    ("robust_parcorr", RobustParCorr),
])
def test_parcorr_family_classes_and_settings(name, cls):
    test = make_ci_test(name, ci_level=0.8)
    assert isinstance(test, cls)
    assert test.significance == "analytic"
    # analytic confidence intervals at the requested level feed the equivalence tests
    assert test.confidence == "analytic"
    assert test.conf_lev == pytest.approx(0.8)


def test_parcorr_tigramite_measure():
    assert make_ci_test("parcorr-tigramite").measure == "par_corr"


@pytest.mark.parametrize("name", ["parcorr", "parcorr-tigramite", "robust_parcorr"])
def test_each_call_returns_a_fresh_object(name):
    # tigramite tests cache data and results; sharing one between runs would leak state
    assert make_ci_test(name) is not make_ci_test(name)


@pytest.mark.parametrize("bad", ["nope", "ParCorr", "", "parcorr "])
def test_unknown_name_lists_the_choices(bad):
    with pytest.raises(ValueError, match="unknown ci_test") as info:
        make_ci_test(bad)
    for name in CI_TESTS:
        assert name in str(info.value)


def test_cmiknn_returns_a_seeded_shuffle_test(monkeypatch):
    _stub_numba(monkeypatch)
    from tigramite.independence_tests.cmiknn import CMIknn

    test = make_ci_test("cmiknn", random_state=7)
    assert isinstance(test, CMIknn)
    assert test.significance == "shuffle_test"
    # the permutation draws come from the given seed
    again = make_ci_test("cmiknn", random_state=7)
    other = make_ci_test("cmiknn", random_state=8)
    draws = test.random_state.random(5)
    assert np.array_equal(draws, again.random_state.random(5))
    assert not np.array_equal(draws, other.random_state.random(5))


def test_cmiknn_without_numba_is_a_clear_value_error(monkeypatch):
    # tigramite's CMIknn imports numba, which is not a dependency of this package: the user
    # must get a ValueError naming the missing package (the CLI turns it into "error: ..."),
    # not a ModuleNotFoundError traceback.
    _hide_module(monkeypatch, "numba", _CMIKNN_MODULE)
    with pytest.raises(ValueError, match="numba"):
        make_ci_test("cmiknn")


def test_gpdc_without_dcor_is_a_clear_value_error(monkeypatch):
    _hide_module(monkeypatch, "dcor", _GPDC_MODULE)
    with pytest.raises(ValueError, match="dcor"):
        make_ci_test("gpdc")


def test_gpdc_class_when_dcor_is_importable(monkeypatch):
    if importlib.util.find_spec("dcor") is None:
        fake = types.ModuleType("dcor")  # GPDC only calls dcor when testing, not on construction
        monkeypatch.setitem(sys.modules, "dcor", fake)
        monkeypatch.delitem(sys.modules, _GPDC_MODULE, raising=False)
    from tigramite.independence_tests.gpdc import GPDC

    test = make_ci_test("gpdc", random_state=3)
    assert isinstance(test, GPDC)
    assert test.significance == "analytic"


# ------------------------------------------------------- within-transform df
@pytest.mark.parametrize(("prep", "per_group"), [("none", 0), ("center", 1), ("detrend", 2)])
@pytest.mark.parametrize("n_groups", [1, 7, 226])
def test_within_df_loss_counts_estimated_parameters(prep, per_group, n_groups):
    assert within_df_loss(prep, n_groups) == per_group * n_groups


def test_within_df_loss_unknown_prep():
    with pytest.raises(ValueError, match="zscore"):
        within_df_loss("zscore", 3)


def _t_test_pvalue(r: float, df: int) -> float:
    """Two-sided p-value of a (partial) correlation r with df residual degrees of freedom."""
    t = r * np.sqrt(df / (1 - r**2))
    return float(2 * stats.t.sf(abs(t), df))


@pytest.mark.parametrize("loss", [0, 1, 30])
def test_parcorr_df_loss_lowers_the_t_test_degrees_of_freedom(loss):
    # p-value of r with n samples and `dim` variables in the test: Student t with
    # n - dim - loss degrees of freedom (scipy as the independent reference).
    test = make_ci_test("parcorr", df_loss=loss)
    r, n, dim = 0.2, 120, 4
    p = test.get_analytic_significance(value=r, T=n, dim=dim, xyz=np.array([0, 1, 2, 2]))
    assert p == pytest.approx(_t_test_pvalue(r, n - dim - loss), rel=1e-9)


def test_df_loss_makes_p_values_larger_and_intervals_wider():
    plain, within = make_ci_test("parcorr"), make_ci_test("parcorr", df_loss=40)
    xyz = np.array([0, 1, 2])
    assert (within.get_analytic_significance(0.2, 100, 3, xyz)
            > plain.get_analytic_significance(0.2, 100, 3, xyz))
    lo_p, hi_p = plain.get_analytic_confidence(0.2, 97, 0.9)
    lo_w, hi_w = within.get_analytic_confidence(0.2, 97, 0.9)
    assert lo_w < lo_p < 0.2 < hi_p < hi_w


@pytest.mark.parametrize("name", WITHIN_DF_TESTS)
def test_within_df_tests_match_the_plain_test_at_reduced_sample_size(name):
    plain_cls = RobustParCorr if name == "robust_parcorr" else ParCorr
    plain = plain_cls(significance="analytic", confidence="analytic", conf_lev=0.9)
    within = make_ci_test(name, ci_level=0.9, df_loss=12)
    assert isinstance(within, plain_cls)  # the engine subclasses ParCorr too
    xyz = np.array([0, 1, 2])
    assert (within.get_analytic_significance(0.15, 100, 3, xyz)
            == pytest.approx(plain.get_analytic_significance(0.15, 88, 3, xyz)))
    assert (within.get_analytic_confidence(0.15, 97, 0.9)
            == pytest.approx(plain.get_analytic_confidence(0.15, 85, 0.9)))


def test_parcorr_tigramite_takes_the_same_df_loss():
    # parcorr-tigramite is the same test computed by tigramite's code: T - dim - loss df.
    xyz = np.array([0, 1, 2])
    a = make_ci_test("parcorr-tigramite", df_loss=50).get_analytic_significance(0.2, 100, 3, xyz)
    assert a == pytest.approx(_t_test_pvalue(0.2, 47), rel=1e-9)
    assert make_ci_test("parcorr-tigramite", df_loss=0).get_analytic_significance(
        0.2, 100, 3, xyz) == pytest.approx(_t_test_pvalue(0.2, 97), rel=1e-9)


@pytest.mark.parametrize("name", ["parcorr-tigramite", "robust_parcorr"])
def test_within_df_tests_share_one_class_and_pickle(name):
    # One class per test (not one per call), importable by name: plain pickle round-trips.
    first, second = make_ci_test(name, df_loss=7), make_ci_test(name, df_loss=3)
    assert type(first) is type(second)
    copy = pickle.loads(pickle.dumps(first))
    assert type(copy) is type(first) and copy.df_loss == 7
    xyz = np.array([0, 1, 2])
    assert (copy.get_analytic_significance(0.2, 100, 3, xyz)
            == first.get_analytic_significance(0.2, 100, 3, xyz))
