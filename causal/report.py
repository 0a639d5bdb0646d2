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
from causal.graph.summary import leading_variables, strengths
from causal.hypotheses.verdicts import VerdictTable
from features.panel import Panel

__all__ = ["markdown_table", "render_report", "write_report"]

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


def render_report(*, links: Links, panel: Panel, n_samples: int, source: str,
                  verdicts: VerdictTable | None = None, figures: Sequence[str] = (),
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
    out += ["## Discovered links", "",
            f"{len(links.table)} links tested, {len(sig)} significant at alpha = {links.alpha}. "
            "`value` is the partial correlation of the final (MCI) test; the interval is the "
            f"{s.get('ci_level', 1 - 2 * links.alpha):.0%} confidence interval. Every tested "
            "link is in `links.csv`.", ""]
    if not sig.empty:
        cols = ["source", "target", "lag", "value", "p_value", "ci_low", "ci_high"]
        out += [markdown_table(sig[cols]), ""]
    st = strengths(links).reset_index()
    lead = leading_variables(links)
    out += ["## Who leads", "", "Out- and in-strength are sums of |value| over significant "
            "cross-lagged links; a variable whose changes precede others' has positive `net`.", "",
            markdown_table(st), "", f"Order of leading: {' > '.join(lead)}.", ""]
    if verdicts is not None:
        c = verdicts.counts()
        out += ["## Hypotheses", "", ", ".join(f"{k}: {v}" for k, v in c.items()) + ".", "",
                markdown_table(verdicts.to_frame().drop(columns=["reason"], errors="ignore")), "",
                "Reasons:", ""]
        out += [f"- **{v.hypothesis.name}** - {v.verdict}: {v.reason}" for v in verdicts] + [""]
        out += ["Decision rule: `docs/hypotheses.md`. An absent claim is supported only when "
                "its interval lies inside the equivalence bounds (+-sesoi).", ""]
    for title, body in extra_sections:
        out += [f"## {title}", "", body, ""]
    if figures:
        out += ["## Figures", ""] + [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(out)


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
