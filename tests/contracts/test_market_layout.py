"""FedMarket and its modules share one storage (delegatecall): their layouts must be identical.

Each module inherits MarketBase and declares no state of its own; this compiles the sources
with the storage-layout output and compares slot by slot, so a variable added to one module
(which would silently alias another module's slot) fails here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from ledger.market_artifact import CONTRACT_NAME, MODULES

REPO = Path(__file__).resolve().parents[2]


def _compile_module():
    spec = importlib.util.spec_from_file_location("fedledger_compile", REPO / "scripts" / "compile.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _layouts() -> dict[str, list[tuple[str, int, int, str]]]:
    compile_ = _compile_module()
    standard = compile_.build_input(compile_.find_sources())
    standard["settings"]["outputSelection"] = {"*": {"*": ["storageLayout"]}}
    output = compile_.run_compiler(standard, compile_.find_solc())
    layouts = {}
    for unit in output["contracts"].values():
        for name, contract in unit.items():
            if name in (CONTRACT_NAME, *MODULES):
                storage = contract["storageLayout"]["storage"]
                types = contract["storageLayout"]["types"] or {}
                layouts[name] = [(v["label"], int(v["slot"]), v["offset"],
                                  json.dumps(types.get(v["type"], {}).get("label")))
                                 for v in storage]
    return layouts


def test_every_module_has_the_market_storage_layout():
    layouts = _layouts()
    assert set(layouts) == {CONTRACT_NAME, *MODULES}
    core = layouts[CONTRACT_NAME]
    assert core[0][0] == "_taskCount" and len(core) == 24  # MarketBase's variables, nothing else
    for name in MODULES:
        assert layouts[name] == core, name
