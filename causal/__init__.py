"""therapy-pcmci: temporal causal discovery (PCMCI) on multi-patient therapy process data.

The public API, by pipeline stage::

    from causal import PanelPCMCI, Links                   # discovery
    from causal import summary_graph, leading_variables    # graph
    from causal import load_hypotheses, evaluate           # hypotheses and verdicts
    from causal import ClusterBootstrap, IndividualPCMCI   # resampling
    from causal import power_curve, plot_graph             # planning, figures

Names are loaded on first use (PEP 562), so ``import causal`` and the
``therapy-pcmci`` command line start without importing pandas, tigramite,
matplotlib or dask. Each name lives in exactly one stage subpackage
(``docs/architecture.md``).

Examples
--------
>>> import causal
>>> causal.PanelPCMCI(tau_max=2).get_params()["tau_max"]
2
>>> sorted(set(causal.__all__) & {"PanelPCMCI", "evaluate", "ClusterBootstrap"})
['ClusterBootstrap', 'PanelPCMCI', 'evaluate']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from features._lazy import lazy_api

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from causal.discovery import CI_TESTS, METHODS, Links, Networks, PanelPCMCI, three_networks
    from causal.discovery.links import format_link
    from causal.effects import jackknife_effects, lagged_effects, within_effects
    from causal.graph import (
        compare_graphs,
        edge_table,
        leading_order,
        leading_variables,
        precedes,
        read_graphml,
        read_json,
        strengths,
        summary_graph,
        time_series_graph,
        write_graphml,
        write_json,
    )
    from causal.hypotheses import (
        Comparison,
        Hypothesis,
        HypothesisError,
        Verdict,
        VerdictTable,
        compare,
        effect_bootstrap,
        evaluate,
        load_comparisons,
        load_hypotheses,
    )
    from causal.hypotheses.sensitivity import run_sensitivity
    from causal.plotting import (
        plot_edge_frequency,
        plot_forest,
        plot_graph,
        plot_networks,
        plot_patients,
        plot_power_curve,
    )
    from causal.power import PowerResult, power_curve
    from causal.rates import Rate, summarize_rate
    from causal.resampling import (
        BootstrapResult,
        ClusterBootstrap,
        IndividualPCMCI,
        SubgroupResult,
        compare_groups,
        find_subgroups,
    )
    from causal.resampling.parallel import parallel_map

#: Public name -> the stage subpackage that defines it.
_API: dict[str, str] = {
    **dict.fromkeys(("CI_TESTS", "METHODS", "Links", "Networks", "PanelPCMCI",
                     "three_networks"), "causal.discovery"),
    **dict.fromkeys(("jackknife_effects", "lagged_effects", "within_effects"), "causal.effects"),
    "run_sensitivity": "causal.hypotheses.sensitivity",
    **dict.fromkeys(("compare_graphs", "edge_table", "leading_order", "leading_variables",
                     "precedes", "read_graphml", "read_json", "strengths", "summary_graph",
                     "time_series_graph", "write_graphml", "write_json"), "causal.graph"),
    **dict.fromkeys(("Comparison", "Hypothesis", "HypothesisError", "Verdict", "VerdictTable",
                     "compare", "effect_bootstrap", "evaluate", "load_comparisons",
                     "load_hypotheses"), "causal.hypotheses"),
    **dict.fromkeys(("plot_edge_frequency", "plot_forest", "plot_graph", "plot_networks",
                     "plot_patients", "plot_power_curve"), "causal.plotting"),
    **dict.fromkeys(("PowerResult", "power_curve"), "causal.power"),
    **dict.fromkeys(("BootstrapResult", "ClusterBootstrap", "IndividualPCMCI",
                     "SubgroupResult", "compare_groups", "find_subgroups"), "causal.resampling"),
    "parallel_map": "causal.resampling.parallel",
    **dict.fromkeys(("Rate", "summarize_rate"), "causal.rates"),
    "format_link": "causal.discovery.links",
}

__all__ = [
    "CI_TESTS",
    "METHODS",
    "BootstrapResult",
    "ClusterBootstrap",
    "Comparison",
    "Hypothesis",
    "HypothesisError",
    "IndividualPCMCI",
    "Links",
    "Networks",
    "PanelPCMCI",
    "PowerResult",
    "Rate",
    "SubgroupResult",
    "Verdict",
    "VerdictTable",
    "compare",
    "compare_graphs",
    "compare_groups",
    "edge_table",
    "effect_bootstrap",
    "evaluate",
    "find_subgroups",
    "format_link",
    "jackknife_effects",
    "lagged_effects",
    "leading_order",
    "leading_variables",
    "load_comparisons",
    "load_hypotheses",
    "parallel_map",
    "plot_edge_frequency",
    "plot_forest",
    "plot_graph",
    "plot_networks",
    "plot_patients",
    "plot_power_curve",
    "power_curve",
    "precedes",
    "read_graphml",
    "read_json",
    "run_sensitivity",
    "strengths",
    "summarize_rate",
    "summary_graph",
    "three_networks",
    "time_series_graph",
    "within_effects",
    "write_graphml",
    "write_json",
]


__getattr__, __dir__ = lazy_api(__name__, _API, globals())
