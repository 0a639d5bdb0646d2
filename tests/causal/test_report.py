from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from causal import PanelPCMCI, evaluate
from causal.report import markdown_table, render_report, write_report
from features.simulate import simulate_cohort

SECTIONS = ["Settings", "Samples", "Exclusions", "Discovered links", "Who leads", "Hypotheses",
            "Figures"]


# ----------------------------------------------------------- markdown_table
def test_markdown_table_layout():
    text = markdown_table(pd.DataFrame({"a": [1, 2, 3], "bb": ["x", "y", "z"]}))
    lines = text.splitlines()
    assert lines[0] == "| a | bb |"
    assert lines[1] == "|---|---|"
    assert lines[2:] == ["| 1 | x |", "| 2 | y |", "| 3 | z |"]


def test_markdown_table_cells():
    df = pd.DataFrame({"f": [0.123456789, 1234567.0, np.nan], "s": ["a|b", None, "c"],
                       "b": [True, False, True]})
    lines = markdown_table(df).splitlines()
    assert lines[2] == "| 0.1235 | a\\|b | True |"  # 4 significant digits, pipe escaped
    assert lines[3] == "| 1.235e+06 |  | False |"  # missing -> empty cell
    assert lines[4] == "|  | c | True |"
    # every row has as many cells as the header
    assert {line.count("|") - line.count("\\|") for line in lines} == {4}


def test_markdown_table_empty_frame():
    assert markdown_table(pd.DataFrame(columns=["a", "b"])).splitlines() == [
        "| a | b |", "|---|---|"]


# ------------------------------------------------------------ render_report
@pytest.fixture(scope="module")
def model() -> PanelPCMCI:
    df = simulate_cohort("paper", n_patients=40, n_weeks=10, missing=0.05, random_state=8)
    df.loc[4, ["depression", "self_compassion", "fear_others"]] = np.nan  # one excluded row
    short = pd.DataFrame({"patient": 777, "week": [1, 3, 5], "depression": [1.0, 2, 3],
                          "self_compassion": [2.0, 3, 2], "fear_others": [5.0, 1, 4]})
    return PanelPCMCI(tau_max=1).fit(pd.concat([df, short], ignore_index=True))


@pytest.fixture(scope="module")
def verdicts(model):
    return evaluate("melsom2023", model.links_)


@pytest.fixture(scope="module")
def report(model, verdicts) -> str:
    return render_report(links=model.links_, panel=model.panel_, n_samples=model.n_samples_,
                         source="simulated cohort", verdicts=verdicts,
                         figures=["graph.png", "patients.png"], command="therapy-pcmci demo")


COMPLETE = "complete samples at lags 0..tau_max (upper bound per test)"


def _section(text: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    assert match, f"section {title!r} missing"
    return match.group(1)


def _table(body: str) -> pd.DataFrame:
    """Parse the first Markdown table of a section (cells as strings)."""
    lines = [ln for ln in body.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]
    return pd.DataFrame(rows, columns=header)


def test_sections_in_order(report):
    titles = re.findall(r"^## (.+)$", report, flags=re.M)
    assert titles == SECTIONS
    assert report.startswith("# therapy-pcmci report")
    assert "```\ntherapy-pcmci demo\n```" in report


def test_settings_match_the_links(report, model):
    settings = _table(_section(report, "Settings")).set_index("setting")["value"]
    links = model.links_
    assert settings["data"] == "simulated cohort"
    assert settings["method"] == links.method
    assert settings["ci_test"] == links.ci_test
    assert int(settings["tau_max"]) == links.tau_max
    assert float(settings["alpha"]) == links.alpha
    assert float(settings["pc_alpha"]) == model.pc_alpha
    assert settings["fdr"] == "none"
    assert settings["prep"] == model.prep_
    assert settings["cut_off"] == model.cut_off
    assert float(settings["confidence level"]) == pytest.approx(1 - 2 * links.alpha)


def test_sample_counts_match_the_model(report, model):
    counts = _table(_section(report, "Samples")).set_index("quantity")["count"]
    d = model.panel_.describe()
    assert float(counts["patients analysed"]) == model.panel_.n_patients == 40
    assert float(counts["rows analysed"]) == d["rows"]
    assert float(counts["median rows per patient"]) == d["rows_per_patient_median"]
    assert float(counts[COMPLETE]) == model.n_samples_
    assert float(counts["rows excluded"]) == model.exclusions_.n_rows == 1
    assert float(counts["patients excluded"]) == model.exclusions_.n_patients == 1
    missing = re.search(r"Missing values per variable.*?: (.*)\.", _section(report, "Samples"))
    for var, n in d["missing_values"].items():
        assert f"{var}: {n}" in missing.group(1)


def test_sample_counts_are_those_the_tests_used(report, model):
    counts = _table(_section(report, "Samples")).set_index("quantity")["count"]
    used = model.links_.table["n_samples"]
    assert float(counts["pooled samples the tests used: median"]) == float(used.median())
    assert int(counts["pooled samples the tests used: min"]) == int(used.min())
    assert int(counts["pooled samples the tests used: max"]) == int(used.max())
    assert "`n_samples` of `links.csv`" in _section(report, "Samples")


def test_large_counts_are_written_in_full(model):
    # EMA panels easily pool > 10,000 samples; a count must not become "1.234e+04"
    text = render_report(links=model.links_, panel=model.panel_, n_samples=123456,
                         source="x")
    counts = _table(_section(text, "Samples")).set_index("quantity")["count"]
    assert counts[COMPLETE] == "123456"


def test_counts_are_integers_and_the_median_a_number(report, model):
    counts = _table(_section(report, "Samples")).set_index("quantity")["count"]
    d = model.panel_.describe()
    for quantity in ("patients analysed", "rows analysed", "rows excluded",
                     "patients excluded", COMPLETE):
        assert re.fullmatch(r"\d+", counts[quantity]), (quantity, counts[quantity])
    assert counts["rows analysed"] == str(d["rows"])
    assert float(counts["median rows per patient"]) == pytest.approx(
        d["rows_per_patient_median"], rel=1e-3)


def test_exclusions_section_summarises_the_report(report, model):
    table = _table(_section(report, "Exclusions"))
    summary = model.exclusions_.summary()
    assert table["reason"].tolist() == summary["reason"].tolist()
    assert [int(c) for c in table["count"]] == summary["count"].tolist()
    assert "exclusions.csv" in _section(report, "Exclusions")


def test_exclusions_section_without_exclusions():
    df = simulate_cohort("paper", n_patients=20, n_weeks=8, random_state=2)
    m = PanelPCMCI().fit(df)
    text = render_report(links=m.links_, panel=m.panel_, n_samples=m.n_samples_, source="x")
    assert "Nothing was excluded." in _section(text, "Exclusions")


def test_discovered_links_section_matches_the_links(report, model):
    body = _section(report, "Discovered links")
    t = model.links_.table
    sig = model.links_.significant()
    assert f"{len(t)} links tested, {len(sig)} significant at alpha = {model.alpha}" in body
    assert "90% confidence interval" in body
    shown = _table(body)
    assert len(sig) > 0 and len(shown) == len(sig)
    assert list(zip(shown["source"], shown["target"], shown["lag"].astype(int), strict=True)) \
        == list(zip(sig["source"], sig["target"], sig["lag"], strict=True))
    np.testing.assert_allclose(shown["value"].astype(float), sig["value"], rtol=1e-3)


def test_who_leads_section_states_no_order_without_its_uncertainty(report, model):
    body = _section(report, "Who leads")
    table = _table(body)
    assert set(table["variable"]) == set(model.links_.variables)
    assert "Order of leading" not in body and "No order is stated" in body


def test_who_leads_section_with_its_uncertainty(model):
    from causal import effect_bootstrap, leading_order

    draws = effect_bootstrap(model.panel_, n_boot=200, prep="none", random_state=0)
    leading = leading_order(draws.table(), draws.replicates())
    text = render_report(links=model.links_, panel=model.panel_, n_samples=model.n_samples_,
                         source="test", leading=leading)
    body = _section(text, "Who leads")
    assert leading.render() in body
    table = _table(body)
    assert table["variable"].tolist() == leading.order
    assert list(table.columns) == ["variable", "net", "net_low", "net_high", "p_positive",
                                   "p_first"]


def test_hypotheses_section_matches_the_verdicts(report, verdicts):
    body = _section(report, "Hypotheses")
    counts = verdicts.counts()
    assert ", ".join(f"{k}: {v}" for k, v in counts.items()) + "." in body
    table = _table(body)
    assert table["name"].tolist() == [v.hypothesis.name for v in verdicts]
    assert table["verdict"].tolist() == [v.verdict for v in verdicts]
    assert "reason" not in table.columns
    for v in verdicts:
        assert f"- **{v.hypothesis.name}** - {v.verdict}: {v.reason}" in body


def test_figures_are_embedded(report):
    body = _section(report, "Figures")
    assert "![graph.png](graph.png)" in body and "![patients.png](patients.png)" in body


def test_optional_sections_are_left_out(model):
    text = render_report(links=model.links_, panel=model.panel_, n_samples=model.n_samples_,
                         source="x")
    titles = re.findall(r"^## (.+)$", text, flags=re.M)
    assert titles == ["Settings", "Samples", "Exclusions", "Discovered links", "Who leads"]
    assert "```" not in text


def test_extra_sections_come_before_figures(model):
    text = render_report(links=model.links_, panel=model.panel_, n_samples=model.n_samples_,
                         source="x", figures=["g.png"],
                         extra_sections=[("Bootstrap", "edge frequencies here")])
    titles = re.findall(r"^## (.+)$", text, flags=re.M)
    assert titles[-2:] == ["Bootstrap", "Figures"]
    assert "edge frequencies here" in _section(text, "Bootstrap")


def test_write_report_writes_the_rendered_text(tmp_path, model, verdicts):
    kwargs = dict(links=model.links_, panel=model.panel_, n_samples=model.n_samples_,
                  source="s", verdicts=verdicts)
    path = write_report(tmp_path / "report.md", **kwargs)
    assert path == tmp_path / "report.md"
    assert path.read_text(encoding="utf-8") == render_report(**kwargs)


def test_report_shows_effects_and_the_absent_rule(report):
    links_part = report.split("## Discovered links")[1].split("## Who leads")[0]
    assert "| effect | effect_low | effect_high |" in links_part
    assert "standardized within-person change per week" in links_part
    assert "minimal-effect test" in report.split("## Hypotheses")[1]


def test_sensitivity_section_lists_agreement(model, verdicts):
    from causal.hypotheses.sensitivity import Specification, run_sensitivity
    from causal.report import sensitivity_section

    raw = simulate_cohort("paper", n_patients=40, n_weeks=10, missing=0.05, random_state=8)
    result = run_sensitivity(raw, verdicts, model.get_params(),
                             specs=[Specification("center", 1, 0.2),
                                    Specification("detrend", 2, 0.1)])
    text = sensitivity_section(result)
    assert "2 alternative specifications" in text
    assert "prep center, detrend; tau_max 1, 2; pc_alpha 0.1, 0.2" in text
    assert "| name | expected | verdict | agree | disagreeing |" in text
    n = result.table["n_specifications"].iloc[0]
    assert f"| {result.table['n_agree'].iloc[0]}/{n} |" in text
