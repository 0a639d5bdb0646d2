"""The three estimators are scikit-learn estimators: a documented subset of estimator_checks.

``PanelPCMCI``, ``ClusterBootstrap`` and ``IndividualPCMCI`` inherit
:class:`sklearn.base.BaseEstimator`. The checks of
:mod:`sklearn.utils.estimator_checks` that concern the estimator *object*
(constructor, parameters, ``clone``, ``repr``, tags) apply and are run here,
one check function at a time.

Checks that do not apply, and why:

* every check that calls ``fit``, ``predict``, ``transform`` or ``score`` with
  a generated numeric ``X`` (``check_fit2d_*``, ``check_fit1d``,
  ``check_estimators_dtypes``, ``check_dtype_object``,
  ``check_n_features_in``, ``check_dont_overwrite_parameters``,
  ``check_estimators_overwrite_params``, ``check_estimators_pickle``,
  ``check_fit_idempotent``, ``check_fit_check_is_fitted``,
  ``check_estimators_empty_data``, ``check_estimators_nan_inf``,
  ``check_methods_*``, ``check_dict_unchanged``, ...): ``fit`` takes a
  long-format panel (patient id and time columns, several time points per
  patient), not an ``(n_samples, n_features)`` array, and the estimators have
  no ``predict``, ``transform`` or ``score``. The properties those checks
  guard are tested below on a panel instead: ``fit`` does not change the
  parameters, a fitted estimator pickles, refitting gives the same result,
  and a clone is unfitted;
* ``check_estimator`` / ``parametrize_with_checks`` as a whole, for the
  same reason (they run the fit-based checks too);
* classifier-, regressor-, transformer- and clusterer-specific checks: these
  are none of those.
"""

from __future__ import annotations

import pickle

import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.utils import estimator_checks as checks

from causal import ClusterBootstrap, IndividualPCMCI, PanelPCMCI
from features.simulate import simulate_cohort

#: Checks of sklearn.utils.estimator_checks that apply (see the module docstring).
OBJECT_CHECKS = (
    checks.check_parameters_default_constructible,
    checks.check_no_attributes_set_in_init,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_estimator_repr,
    checks.check_estimator_cloneable,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_mixin_order,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
)

ESTIMATORS = {
    "PanelPCMCI": lambda: PanelPCMCI(tau_max=2, forbid=[("depression", "fear_others", 1)]),
    "ClusterBootstrap": lambda: ClusterBootstrap(PanelPCMCI(tau_max=2), n_boot=5),
    "IndividualPCMCI": lambda: IndividualPCMCI(PanelPCMCI(alpha=0.01), group_threshold=0.5),
}


@pytest.mark.parametrize("check", OBJECT_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_sklearn_object_checks(name, check):
    check(name, ESTIMATORS[name]())


def test_clone_keeps_parameters():
    # the bar of issue 11
    assert clone(PanelPCMCI(tau_max=2)).get_params()["tau_max"] == 2
    for make in ESTIMATORS.values():
        est = make()
        assert isinstance(est, BaseEstimator)
        assert repr(clone(est)) == repr(est)


@pytest.mark.parametrize("cls", [ClusterBootstrap, IndividualPCMCI])
def test_nested_parameters_reach_the_template(cls):
    est = cls(PanelPCMCI(tau_max=2))
    deep = est.get_params(deep=True)
    assert deep["estimator__tau_max"] == 2 and "estimator__alpha" in deep
    assert "estimator__tau_max" not in est.get_params(deep=False)
    est.set_params(estimator__alpha=0.01)
    assert est.estimator.alpha == 0.01
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(tau_max=1)  # the template's settings live on the template


# ------------------------------------------- fit-based properties, on a panel
@pytest.fixture(scope="module")
def panels() -> dict[str, pd.DataFrame]:
    return {"pooled": simulate_cohort("paper", n_patients=30, n_weeks=13, random_state=2),
            "long": simulate_cohort("paper", n_patients=4, n_weeks=40, random_state=5)}


FITTED = {  # estimator, data set, the result table that must be reproducible
    "PanelPCMCI": ("pooled", lambda m: m.links_.table),
    "ClusterBootstrap": ("pooled", lambda m: m.edges_),
    "IndividualPCMCI": ("long", lambda m: m.patient_links_),
}


@pytest.mark.parametrize("name", sorted(FITTED))
def test_fit_keeps_parameters_pickles_refits_and_clones_unfitted(panels, name):
    est = ESTIMATORS[name]()
    if name == "ClusterBootstrap":
        est.set_params(n_boot=3, random_state=1, estimator__tau_max=1)
    data, result = FITTED[name]
    before = est.get_params(deep=False)
    est.fit(panels[data])
    after = est.get_params(deep=False)
    assert after.keys() == before.keys()
    for key, value in before.items():  # fit neither replaces nor fits a parameter
        assert after[key] is value, key
        assert not hasattr(value, "links_"), key
    restored = pickle.loads(pickle.dumps(est))
    pd.testing.assert_frame_equal(result(restored), result(est))
    pd.testing.assert_frame_equal(result(clone(est).fit(panels[data])), result(est))
    fresh = clone(est)
    assert not [k for k in vars(fresh) if k.endswith("_") and not k.startswith("_")]
