"""Sensitivity of hypothesis verdicts to the analysis specification.

A verdict depends on choices the data do not dictate: the within-person trend
model (``prep``), the largest lag (``tau_max``) and the liberal level of the
condition-selection stage (``pc_alpha``). :func:`run_sensitivity` re-runs
discovery and the verdicts under every combination of reasonable
alternatives (:func:`specifications`) and counts, per hypothesis, how many
specifications agree with the default verdict. A verdict that holds under
every specification does not hinge on one analytic choice; one that flips
should be reported with its alternatives (Steegen, Tuerlinckx, Gelman &
Vanpaemel 2016, multiverse analysis; Simonsohn, Simmons & Nelson 2020,
specification curve).

The alternatives are judged by the analytic rule of
:func:`causal.hypotheses.verdicts.decide` (no bootstrap), with the same SESOI
as the default. A specification whose discovery fails (too few samples for
``tau_max=2``, a trend model the data cannot support) is counted in
``n_failed``, not as a disagreement; a hypothesis whose lag exceeds a
specification's ``tau_max`` is not judged under it.

Examples
--------
>>> from features.simulate import simulate_cohort
>>> from causal.discovery.estimator import PanelPCMCI
>>> from causal.hypotheses.verdicts import evaluate
>>> df = simulate_cohort("paper", n_patients=80, n_weeks=13, random_state=1)
>>> model = PanelPCMCI().fit(df)
>>> default = evaluate("melsom2023", model.links_)
>>> result = run_sensitivity(df, default, model.get_params())
>>> result.table.columns.tolist()[:6]
['name', 'cause', 'effect', 'lag', 'expected', 'verdict']
>>> int(result.table["n_specifications"].iloc[0]) == len(result.specifications)
True
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from causal.discovery.estimator import PanelPCMCI
from causal.discovery.links import Links
from causal.hypotheses.spec import HypothesisError
from causal.hypotheses.verdicts import VERDICTS, VerdictTable, evaluate
from features.choices import PREPS
from features.errors import InputError
from features.io import write_csv
from features.panel import Panel
from features.transforms import resolve_prep, resolve_time_effects

__all__ = [
    "PC_ALPHAS",
    "SENSITIVITY_COLUMNS",
    "SPEC_COLUMNS",
    "TAU_MAXES",
    "Sensitivity",
    "Specification",
    "run_sensitivity",
    "specifications",
]

logger = logging.getLogger(__name__)

#: ``tau_max`` values tried.
TAU_MAXES = (1, 2)
#: ``pc_alpha`` values tried (PCMCI only; PCMCI+ uses ``alpha`` for every test).
PC_ALPHAS = (0.1, 0.2)
#: Trend models never tried: ``none`` pools raw scores and confounds trends; ``auto`` is
#: an alias (:func:`features.transforms.resolve_prep`).
_EXCLUDED_PREPS = ("none", "auto")
#: Trend models that need a day/beep design (tried only for such panels).
_DAY_BEEP_PREPS = ("diurnal",)

#: Columns of ``sensitivity.csv``.
SENSITIVITY_COLUMNS = ("name", "cause", "effect", "lag", "expected", "verdict",
                       "n_specifications", "n_agree", "agree_share", "n_supported",
                       "n_contradicted", "n_inconclusive", "n_failed", "disagreeing")
#: Columns of :attr:`Sensitivity.runs` (one row per hypothesis and specification).
SPEC_COLUMNS = ("name", "specification", "prep", "tau_max", "pc_alpha", "time_effects", "debias",
                "verdict", "value",
                "p_value", "significant", "agrees")


class _VerdictsOnly(PanelPCMCI):
    """PanelPCMCI without the ``effect`` columns: the verdicts need only the tests."""

    _effects_wanted = False

    def _with_effects(self, links: Links, raw: Panel, solved: Any) -> Links:
        return links


@dataclass(frozen=True)
class Specification:
    """One alternative analysis: the settings that differ from the default's grid."""

    prep: str
    tau_max: int
    pc_alpha: float | None
    time_effects: bool | None = None
    debias: bool | None = None

    @property
    def label(self) -> str:
        """Short text such as ``prep=center, tau_max=2, pc_alpha=0.1``.

        ``time_effects`` and ``debias`` are named only when the specification
        sets them (None keeps the default's).
        """
        pc = "-" if self.pc_alpha is None else f"{self.pc_alpha:g}"
        text = f"prep={self.prep}, tau_max={self.tau_max}, pc_alpha={pc}"
        for name in ("time_effects", "debias"):
            value = getattr(self, name)
            if value is not None:
                text += f", {name}={'on' if value else 'off'}"
        return text

    def params(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``base`` PanelPCMCI parameters with this specification's settings."""
        out = {**base, "prep": self.prep, "tau_max": self.tau_max, "pc_alpha": self.pc_alpha}
        for name in ("time_effects", "debias"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


def specifications(params: Mapping[str, Any], *, preps: Sequence[str] | None = None,
                   tau_maxes: Sequence[int] = TAU_MAXES,
                   pc_alphas: Sequence[float] = PC_ALPHAS) -> tuple[Specification, ...]:
    """Return the alternative specifications: the full grid minus the default.

    Parameters
    ----------
    params : mapping
        The default :class:`~causal.discovery.estimator.PanelPCMCI` parameters
        (``get_params()``); its ``prep``, ``tau_max`` and ``pc_alpha`` are added
        to the grid, so the default is always one of its points (and left out).
    preps : sequence of str, optional
        Trend models; default every one in :data:`features.choices.PREPS`
        except ``"none"``, ``"auto"`` and the day/beep models (``"diurnal"``).
    tau_maxes, pc_alphas : sequence
        Values tried (``pc_alpha`` only for ``method="pcmci"``).

    Examples
    --------
    >>> [s.label for s in specifications({"prep": "detrend", "tau_max": 1, "pc_alpha": 0.2,
    ...                                    "method": "pcmci"}, preps=["detrend"])]
    ['prep=detrend, tau_max=1, pc_alpha=0.1', 'prep=detrend, tau_max=2, pc_alpha=0.1', \
'prep=detrend, tau_max=2, pc_alpha=0.2']
    """
    if preps is None:
        preps = [p for p in PREPS if p not in (*_EXCLUDED_PREPS, *_DAY_BEEP_PREPS)]
    preps = list(preps)
    for p in preps:
        if p not in PREPS:
            raise InputError(f"sensitivity prep {p!r} is not one of {list(PREPS)}")
    default = Specification(str(params["prep"]), int(params["tau_max"]), params["pc_alpha"])
    prep_grid = list(dict.fromkeys([default.prep, *preps]))
    tau_grid = sorted({default.tau_max, *(int(t) for t in tau_maxes)})
    if params.get("method", "pcmci") == "pcmci":
        pc_grid = sorted({default.pc_alpha, *pc_alphas}, key=lambda x: (x is None, x or 0))
    else:
        pc_grid = [default.pc_alpha]
    grid = [Specification(p, t, a) for p, t, a in itertools.product(prep_grid, tau_grid, pc_grid)]
    return tuple(s for s in grid if s != default)


@dataclass(frozen=True)
class Sensitivity:
    """Verdicts under the alternative specifications, and their agreement with the default.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per hypothesis, columns :data:`SENSITIVITY_COLUMNS`: the default
        ``verdict``; ``n_specifications`` alternatives under which the
        hypothesis was judged, ``n_agree`` of them with the default verdict
        (``agree_share``), the counts per verdict, ``n_failed`` alternatives
        whose discovery failed, and the ``disagreeing`` specifications
        (``"; "``-separated labels with their verdict).
    runs : pandas.DataFrame
        Columns :data:`SPEC_COLUMNS`: every verdict under every alternative.
    specifications : tuple of Specification
        The alternatives, in run order.
    failures : dict
        ``{label: error message}`` of the failed alternatives.
    seconds : float
        Wall time of the re-runs.
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    specifications: tuple[Specification, ...]
    failures: dict[str, str]
    seconds: float

    def to_csv(self, path: str | Path) -> Path:
        """Write :attr:`table` (``sensitivity.csv``) to ``path`` and return it."""
        path = write_csv(self.table, path)
        logger.info("wrote sensitivity of %d hypotheses to %s", len(self.table), path)
        return path

    def __str__(self) -> str:
        head = (f"Sensitivity: {len(self.specifications)} alternative specifications "
                f"({len(self.failures)} failed), {self.seconds:.1f} s")
        lines = [head]
        for r in self.table.itertuples(index=False):
            lines.append(f"  {r.name}: {r.verdict}, {r.n_agree}/{r.n_specifications} agree")
        return "\n".join(lines)


def _time_effects(params: Mapping[str, Any], panel: Panel) -> bool:
    """Whether PanelPCMCI with ``params`` removes time means from ``panel``."""
    return resolve_time_effects(params.get("time_effects", "auto"), panel)


def _switches(params: Mapping[str, Any], panel: Panel) -> tuple[Specification, ...]:
    """Return the default's own grid point with time effects, then debias, switched."""
    point = (str(params["prep"]), int(params["tau_max"]), params["pc_alpha"])
    return (Specification(*point, time_effects=not _time_effects(params, panel)),
            Specification(*point, debias=not bool(params.get("debias", False))))


def _to_panel(data: Panel | pd.DataFrame) -> Panel:
    if isinstance(data, Panel):
        return data
    if isinstance(data, pd.DataFrame):
        return Panel.from_frame(data, tau_max=None)
    raise InputError(f"data must be a Panel or a long-format DataFrame, got {type(data).__name__}")


def run_sensitivity(data: Panel | pd.DataFrame, default: VerdictTable,
                    params: Mapping[str, Any], *,
                    specs: Sequence[Specification] | None = None) -> Sensitivity:
    """Re-run discovery and verdicts under every alternative specification.

    Parameters
    ----------
    data : Panel or pandas.DataFrame
        The **raw** (untransformed) data the default model was fitted on; a
        frame must use the columns ``patient`` and ``week``.
    default : VerdictTable
        The default verdicts (their hypotheses and SESOIs are re-used).
    params : mapping
        The default :class:`~causal.discovery.estimator.PanelPCMCI` parameters
        (``prep="auto"`` is resolved for ``data``).
    specs : sequence of Specification, optional
        Alternatives; default :func:`specifications` of ``params`` over every
        trend model except ``none`` (and the day/beep ``diurnal`` model unless
        ``data`` has a day/beep design), plus the default's own settings with
        time effects switched and with the centred tests (``debias``)
        switched.

    Returns
    -------
    Sensitivity
    """
    panel = _to_panel(data)
    params = {**params, "prep": resolve_prep(str(params["prep"]), panel)}
    if specs is None:
        preps = [p for p in PREPS if p not in _EXCLUDED_PREPS
                 and (p not in _DAY_BEEP_PREPS or panel.day_col)]
        specs = (*specifications(params, preps=preps), *_switches(params, panel))
    specs = tuple(specs)
    claims = [v.hypothesis for v in default]
    sesoi = {v.hypothesis.name: v.sesoi for v in default}
    start = time.perf_counter()
    runs: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    for spec in specs:
        try:
            links = _VerdictsOnly(**spec.params(params)).fit(panel).links_
        except (InputError, ValueError) as exc:  # DataError is an InputError
            failures[spec.label] = str(exc)
            logger.info("sensitivity: %s failed: %s", spec.label, exc)
            continue
        for h in claims:
            if h.lag > spec.tau_max:
                continue
            try:
                v = next(iter(evaluate([h], links, sesoi=sesoi[h.name])))
            except HypothesisError as exc:
                failures[f"{spec.label} ({h.name})"] = str(exc)
                continue
            resolved = spec.params(params)
            runs.append({"name": h.name, "specification": spec.label, "prep": spec.prep,
                         "tau_max": spec.tau_max,
                         "pc_alpha": math.nan if spec.pc_alpha is None else spec.pc_alpha,
                         "time_effects": _time_effects(resolved, panel),
                         "debias": bool(resolved.get("debias", False)),
                         "verdict": v.verdict, "value": v.value, "p_value": v.p_value,
                         "significant": v.significant})
    seconds = time.perf_counter() - start
    frame = pd.DataFrame(runs, columns=[c for c in SPEC_COLUMNS if c != "agrees"])
    base = {v.hypothesis.name: v.verdict for v in default}
    frame["agrees"] = frame["verdict"] == frame["name"].map(base)
    rows = []
    for v in default:
        h = v.hypothesis
        mine = frame[frame["name"] == h.name]
        counts = mine["verdict"].value_counts()
        off = mine[~mine["agrees"]]
        n = len(mine)
        rows.append({"name": h.name, "cause": h.cause, "effect": h.effect, "lag": h.lag,
                     "expected": h.expected, "verdict": v.verdict, "n_specifications": n,
                     "n_agree": int(mine["agrees"].sum()),
                     "agree_share": float(mine["agrees"].mean()) if n else math.nan,
                     **{f"n_{k}": int(counts.get(k, 0)) for k in VERDICTS},
                     "n_failed": sum(1 for s in specs if s.label in failures),
                     "disagreeing": "; ".join(f"{r.specification}: {r.verdict}"
                                              for r in off.itertuples())})
    table = pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS)).astype(
        {"lag": int, "n_specifications": int, "n_agree": int, "agree_share": float})
    result = Sensitivity(table=table, runs=frame[list(SPEC_COLUMNS)], specifications=specs,
                         failures=failures, seconds=seconds)
    logger.info("%s", result)
    return result
