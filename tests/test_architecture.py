"""The house rules of docs/architecture.md, checked on the source (imports only, nothing run)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("causal", "features", "experiments")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _import_graph() -> nx.DiGraph:
    """Module -> module it imports (``from a.b import c`` counts a.b, and a.b.c if a module)."""
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_no_import_cycles():
    cycles = sorted(nx.simple_cycles(_import_graph()), key=len)
    assert cycles == [], f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize(("importer", "forbidden"), [
    ("features", "causal"), ("features", "experiments"), ("causal", "experiments")])
def test_stages_import_one_way(importer, forbidden):
    graph = _import_graph()
    bad = sorted((a, b) for a, b in graph.edges
                 if a.split(".")[0] == importer and b.split(".")[0] == forbidden)
    assert bad == []


def test_causal_has_few_top_level_modules():
    top = sorted(p.stem for p in (ROOT / "causal").glob("*.py") if p.stem != "__init__")
    assert len(top) <= 10, top
