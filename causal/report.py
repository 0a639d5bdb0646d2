"""A readable ``report.md`` for one discovery run.

The report is plain Markdown: settings, sample counts, exclusions, the
discovered edges, who leads, hypothesis verdicts and the figures. Tables are
written with :meth:`pandas.DataFrame.to_markdown`'s lightweight sibling
:func:`markdown_table` (no ``tabulate`` dependency).

Examples
--------
>>> print(markdown_table(pd.DataFrame({"a": [1, 2], "b": [0.5, None]})))
| a | b |
|---|---|
| 1 | 0.5 |
| 2 |  |
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from causal.discovery.links import Links
from causal.graph.summary import LeadingOrder, strengths
from causal.hypotheses.sensitivity import Sensitivity
from causal.hypotheses.verdicts import VerdictTable
from features.panel import Panel

__all__ = ["EFFECT_SIZE_COLUMNS", "EFFECT_WORDS", "VALUE_WORDS", "add_effect_sizes",
           "markdown_table", "render_report", "sensitivity_section", "write_report"]

#: The plain words for ``value`` and ``effect`` wherever a reader meets them.
VALUE_WORDS = "partial correlation (test statistic)"
EFFECT_WORDS = "standardized within-person change per week"
#: Columns :func:`add_effect_sizes` appends to ``hypotheses.csv`` (``effect`` there is the
#: effect variable, so the link's effect is ``effect_size``).
EFFECT_SIZE_COLUMNS = ("effect_size", "effect_low", "effect_high")

logger = logging.getLogger(__name__)


def _cell(x: Any) -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)) or x is pd.NA:
        return ""
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x).replace("|", "\\|")


def markdown_table(df: pd.DataFrame) -> str:
    """Return ``df`` as a GitHub-flavoured Markdown table (no index)."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(x) for x in row) + " |")
    return "\n".join(lines)


def add_effect_sizes(frame: pd.DataFrame, links: Links) -> pd.DataFrame:
    """Append each hypothesis link's ``effect`` and interval as :data:`EFFECT_SIZE_COLUMNS`.

    ``frame`` has ``cause, effect, lag`` (e.g. :meth:`VerdictTable.to_frame
    <causal.hypotheses.verdicts.VerdictTable.to_frame>`); links without an
    ``effect`` column give NaN.

    Examples
    --------
    >>> table = pd.DataFrame({"source": ["a"], "target": ["b"], "lag": [1], "value": [0.1],
    ...                       "p_value": [0.01], "significant": [True], "effect": [0.2],
    ...                       "effect_low": [0.1], "effect_high": [0.3]})
    >>> links = Links(table=table, variables=("a", "b"), tau_max=1, alpha=0.05)
    >>> frame = pd.DataFrame({"name": ["h"], "cause": ["a"], "effect": ["b"], "lag": [1]})
    >>> add_effect_sizes(frame, links).iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'name': 'h', 'cause': 'a', 'effect': 'b', 'lag': 1, 'effect_size': 0.2,
     'effect_low': 0.1, 'effect_high': 0.3}
    """
    cols = ["effect", "effect_low", "effect_high"]
    table = links.table
    sizes = (table[["source", "target", "lag", *cols]] if set(cols) <= set(table.columns)
             else table[["source", "target", "lag"]].assign(**dict.fromkeys(cols, float("nan"))))
    sizes = sizes.rename(columns={"source": "cause", "target": "_target", **dict(
        zip(cols, EFFECT_SIZE_COLUMNS, strict=True))})
    merged = frame.merge(sizes, left_on=["cause", "effect", "lag"],
                         right_on=["cause", "_target", "lag"], how="left", validate="many_to_one")
    return merged.drop(columns="_target")[[*frame.columns, *EFFECT_SIZE_COLUMNS]]


def _who_leads(links: Links, leading: LeadingOrder | None) -> list[str]:
    out = ["## Who leads", ""]
    if leading is None:
        st = strengths(links).reset_index()
        return [*out, "Out- and in-strength are sums of |value| over significant cross-lagged "
                "links in this sample. No order is stated: the uncertainty of the order could "
                "not be assessed.", "", markdown_table(st), ""]
    table = leading.table.copy()
    for c in ("net", "net_low", "net_high", "p_positive", "p_first"):
        table[c] = table[c].round(3)
    what = (f"`{leading.label}`" if leading.label == "value" else EFFECT_WORDS)
    return [
        *out,
        f"A variable's net outflow `net` is the sum of |{what}| over its cross-lagged links "
        "out minus over its links in: a variable whose changes precede others' has a positive "
        f"net. Over {leading.n_boot} patient-bootstrap draws, `net_low`/`net_high` is its "
        "95% interval, `p_positive` the share of replicates with a positive net and `p_first` "
        "the share in which it leads outright. A step of the order is stated (`>`) only when "
        "the earlier variable is ahead in at least the share given, else it is `~`: not "
        f"distinguishable (family-wise error rate {leading.alpha:g}; `docs/hypotheses.md`).",
        "", markdown_table(table), "", leading.render(), ""]


def render_report(*, links: Links, panel: Panel, n_samples: int, source: str,
                  verdicts: VerdictTable | None = None, leading: LeadingOrder | None = None,
                  figures: Sequence[str] = (),
                  command: str | None = None,
                  extra_sections: Sequence[tuple[str, str]] = ()) -> str:
    """Return the Markdown text of the report.

    Parameters
    ----------
    links : Links
        Discovery result.
    panel : Panel
        The prepared panel that was analysed (its exclusion report included).
    n_samples : int
        Complete samples (every variable observed at lags 0..tau_max, pooled
        over patients); the report also gives the median and range of the
        samples the tests used (``links.table["n_samples"]``).
    source : str
        Where the data came from (file name or "simulated ...").
    verdicts : VerdictTable, optional
        Hypothesis verdicts.
    leading : LeadingOrder, optional
        Who leads, with its uncertainty (without it no order is stated).
    figures : sequence of str
        Figure file names (relative to the report) to embed.
    command : str, optional
        Command line that produced the run.
    extra_sections : sequence of (title, markdown)
        Further sections (bootstrap, per-patient results...).
    """
    s = links.settings
    out: list[str] = ["# therapy-pcmci report", ""]
    if command:
        out += ["```", command, "```", ""]
    settings = {
        "data": source, "method": links.method, "ci_test": links.ci_test,
        "tau_max": links.tau_max, "alpha": links.alpha, "pc_alpha": s.get("pc_alpha"),
        "fdr": s.get("fdr") or "none", "prep": s.get("prep"), "standardize": s.get("standardize"),
        "cut_off": s.get("cut_off"), "confidence level": s.get("ci_level"),
    }
    if "time_effects" in s:
        settings["time effects"] = s["time_effects"]
    if "debias" in s:
        settings["short-panel bias of the tests"] = s["debias"]
    out += ["## Settings", "", markdown_table(pd.DataFrame(
        {"setting": list(settings), "value": [str(v) for v in settings.values()]})), ""]
    d = panel.describe()
    used = _used_samples(links)
    quantities = ["patients analysed", "rows analysed", "median rows per patient"]
    values: list[Any] = [int(d["patients"]), int(d["rows"]), float(d["rows_per_patient_median"])]
    if used is not None:
        quantities += ["pooled samples the tests used: median", "pooled samples the tests "
                       "used: min", "pooled samples the tests used: max"]
        values += [float(used.median()), int(used.min()), int(used.max())]
    quantities += ["complete samples at lags 0..tau_max (upper bound per test)", "rows excluded",
                   "patients excluded"]
    values += [int(n_samples), int(d["rows_excluded"]), int(d["patients_excluded"])]
    # object dtype: counts stay ints (written in full), only the medians are floats
    counts = pd.DataFrame({"quantity": quantities, "count": pd.Series(values, dtype=object)})
    missing = ", ".join(f"{v}: {n}" for v, n in d["missing_values"].items())
    if used is not None:
        which = ("The pooled samples shown are those the discovery tests actually used (column "
                 "`n_samples` of `links.csv`, per link; rows of the contemporaneous network "
                 "carry their own counts): a test needs every variable in it "
                 "observed, its lags and its conditions' lags inside the same block")
        which += (" (patient-day: no lag crosses a night)" if panel.day_col else "")
        which += (f". The complete-sample count ({int(n_samples)}) only counts rows with every "
                  "variable observed at lags 0..tau_max; conditions reaching further back leave "
                  "a test fewer samples.")
    else:
        which = (f"The pooled sample count shown ({int(n_samples)}) counts rows with every "
                 "variable observed at lags 0..tau_max; the tests did not count their samples.")
    out += ["## Samples", "", markdown_table(counts), "", which, "",
            f"Missing values per variable (rows kept, samples dropped per test): {missing}.", ""]
    out += ["## Exclusions", ""]
    summary = panel.exclusions.summary()
    if summary.empty:
        out += ["Nothing was excluded.", ""]
    else:
        out += [markdown_table(summary), "", "Every excluded row and patient is listed in "
                "`exclusions.csv`.", ""]
    sig = links.significant()
    level = s.get("ci_level", 1 - 2 * links.alpha)
    has_effect = "effect" in sig.columns and sig["effect"].notna().any()
    effect_text = (f" `effect` is the {EFFECT_WORDS} (within-person SDs of the target per "
                   "within-person SD of the source, corrected for short-panel bias), with its "
                   f"{level:.0%} interval `effect_low`/`effect_high`: the size to compare with "
                   "the literature." if has_effect else "")
    out += ["## Discovered links", "",
            f"{len(links.table)} links tested, {len(sig)} significant at alpha = {links.alpha}. "
            f"`value` is the {VALUE_WORDS} of the final (MCI) test; `ci_low`/`ci_high` is its "
            f"{level:.0%} confidence interval.{effect_text} Every tested link is in "
            "`links.csv`.", ""]
    if not sig.empty:
        cols = ["source", "target", "lag", "value", "p_value", "ci_low", "ci_high"]
        if has_effect:
            cols += ["effect", "effect_low", "effect_high"]
        out += [markdown_table(sig[cols]), ""]
    out += _who_leads(links, leading)
    if verdicts is not None:
        c = verdicts.counts()
        shown = add_effect_sizes(verdicts.to_frame(), links).drop(columns=["reason"])
        if shown["effect_size"].isna().all():
            shown = shown.drop(columns=list(EFFECT_SIZE_COLUMNS))
        else:  # next to the partial correlation
            rest = [c for c in shown.columns if c not in EFFECT_SIZE_COLUMNS]
            at = rest.index("ci_high") + 1
            shown = shown[[*rest[:at], *EFFECT_SIZE_COLUMNS, *rest[at:]]]
        out += ["## Hypotheses", "", ", ".join(f"{k}: {v}" for k, v in c.items()) + ".", "",
                f"`value` is the {VALUE_WORDS}; `effect_size` is the {EFFECT_WORDS}, with its "
                "interval `effect_low`/`effect_high`.", "", markdown_table(shown), "",
                "Reasons:", ""]
        out += [f"- **{v.hypothesis.name}** - {v.verdict}: {v.reason}" for v in verdicts] + [""]
        out += ["Decision rule: `docs/hypotheses.md`. An absent claim is supported only when "
                "its interval lies inside the equivalence bounds (+-sesoi), and contradicted "
                "only when the link is significant and its whole interval lies beyond +-sesoi "
                "(minimal-effect test: the effect is shown to be practically present).", ""]
    for title, body in extra_sections:
        out += [f"## {title}", "", body, ""]
    if figures:
        out += ["## Figures", ""] + [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(out)


def sensitivity_section(result: Sensitivity) -> str:
    """Return the body of the report's "Sensitivity" section for ``result``.

    One row per hypothesis: its default verdict, how many alternative
    specifications agree, and the ones that do not.
    """
    specs = result.specifications
    preps = sorted({s.prep for s in specs})
    taus = sorted({s.tau_max for s in specs})
    alphas = sorted({s.pc_alpha for s in specs if s.pc_alpha is not None})
    lines = [f"Each hypothesis was re-judged under {len(specs)} alternative specifications "
             f"(drawn from prep {', '.join(preps)}; tau_max "
             f"{', '.join(map(str, taus))}"
             + (f"; pc_alpha {', '.join(f'{a:g}' for a in alphas)}" if alphas else "")
             + "; the default excluded), by the analytic rule. "
             "`agree` counts the specifications giving the default verdict; a verdict that "
             "changes under reasonable alternatives hinges on an analytic choice and should "
             "be reported with them. All runs are in `sensitivity.csv`.", ""]
    table = result.table.assign(
        agree=[f"{a}/{n}" for a, n in zip(result.table["n_agree"],
                                          result.table["n_specifications"], strict=True)])
    lines.append(markdown_table(table[["name", "expected", "verdict", "agree",
                                       "disagreeing"]]))
    if result.failures:
        lines += ["", f"{len(result.failures)} specification(s) could not be run: "
                  + "; ".join(f"{k} ({v.split(';')[0]})" for k, v in result.failures.items())]
    return "\n".join(lines)


def _used_samples(links: Links) -> pd.Series | None:
    """Return the ``n_samples`` of every test that counted them (None if none did)."""
    if "n_samples" not in links.table:
        return None
    n = pd.to_numeric(links.table["n_samples"], errors="coerce")
    n = n[n >= 0]
    return None if n.empty else n


def write_report(path: str | Path, **kwargs: Any) -> Path:
    """Render the report (see :func:`render_report`) and write it to ``path``."""
    path = Path(path)
    path.write_text(render_report(**kwargs), encoding="utf-8")
    logger.info("wrote report %s", path)
    return path
