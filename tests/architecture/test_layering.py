"""The layering is a test: no import cycles, imports point down only (DESIGN.md)."""

from __future__ import annotations

from tests.architecture.imports import REPO, Edge, cycles, import_graph, imports_of, modules
from tests.architecture.rules import LAYERS, layer_of, violations

GRAPH = import_graph()


def test_the_graph_is_read() -> None:
    # A reader that found nothing would pass every rule below.
    assert len(modules()) > 100
    pairs = {(e.importer, e.imported) for e in GRAPH}
    assert ("node.learning.train", "node.learning.dp_sgd") in pairs
    assert ("node.cli.options", "ledger.stores") in pairs  # a lazy import inside a function
    assert ("node.sim.attacks", "torch") in pairs  # ... and one inside a function only


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_imports_point_down_only() -> None:
    assert violations(GRAPH) == []


def test_every_node_module_has_a_layer() -> None:
    unplaced = [m for m in modules() if m.startswith("node.") and layer_of(m) is None]
    assert unplaced == []
    assert set(LAYERS) >= {f"node.{p.name}" for p in (REPO / "node").iterdir()
                           if (p / "__init__.py").exists()}


def test_node_has_at_most_five_top_level_modules() -> None:
    top = sorted(p.name for p in (REPO / "node").glob("*.py"))
    assert top == ["__init__.py", "errors.py", "numeric.py", "seeds.py"]


def test_no_file_over_400_lines() -> None:
    long = {str(p.relative_to(REPO)): n for p in modules().values()
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


# ---------------------------------------------------------------- the rules can fail


def _edges(importer: str, source: str) -> list[Edge]:
    return imports_of(source, importer, modules())


def test_a_cycle_is_found() -> None:
    edges = [Edge("node.learning.train", "node.learning.loss", 1),
             Edge("node.learning.loss", "node.learning.train", 1)]
    assert cycles(edges) == [["node.learning.loss", "node.learning.train"]]


def test_forbidden_imports_are_reported() -> None:
    cases = {
        ("ledger.manifest", "import torch\n"): "ledger imports neither node nor torch",
        ("ledger.market", "from node.errors import NodeError\n"): "ledger imports neither",
        ("node.aggregation.round", "from ledger.unixfs import cid_of\n"): "no chain or IPFS",
        ("node.codec.flat", "import web3\n"): "no chain or IPFS client",
        ("node.runtime.participant", "from node.sim.simulate import model_cid\n"):
            "only node.sim itself and the CLI",
        ("node.learning.task", "from node.runtime.keystore import KEY_ENV\n"):
            "node.learning (layer 3) may not import node.runtime (layer 6)",
        ("node.data.split", "def f():\n    from node.codec.flat import flatten\n"):
            "node.data (layer 1) may not import node.codec (layer 1)",
    }
    for (importer, source), expected in cases.items():
        found = violations(_edges(importer, source))
        assert len(found) == 1 and expected in found[0], (importer, found)


def test_type_checking_imports_do_not_count() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\n"
    assert [e.imported for e in _edges("ledger.market", source)] == ["typing"]
