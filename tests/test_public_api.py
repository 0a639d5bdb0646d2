"""The curated public APIs of ``causal`` and ``features`` (lazy, PEP 562)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["causal", "features"])
def test_every_public_name_resolves_to_its_defining_module(package):
    mod = importlib.import_module(package)
    assert sorted(mod._API) == sorted(mod.__all__)
    assert len(set(mod.__all__)) == len(mod.__all__)
    for name in mod.__all__:
        value = getattr(mod, name)
        home = importlib.import_module(mod._API[name])
        assert getattr(home, name) is value
        assert name in dir(mod)


@pytest.mark.parametrize("package", ["causal", "features"])
def test_unknown_names_raise_attribute_error(package):
    mod = importlib.import_module(package)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = mod.nope


def test_importing_the_packages_loads_no_heavy_dependency():
    code = ("import sys, causal, features\n"
            "heavy = [m for m in ('pandas', 'tigramite', 'matplotlib', 'dask', 'scipy')"
            " if m in sys.modules]\n"
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_sklearn_clone_keeps_parameters():
    from sklearn.base import clone

    from causal import PanelPCMCI

    assert clone(PanelPCMCI(tau_max=2)).get_params()["tau_max"] == 2
