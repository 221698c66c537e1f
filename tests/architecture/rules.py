"""The layering rules of DESIGN.md, as functions of the import graph (so a test can also
feed them a graph with a forbidden import and see them object)."""

from __future__ import annotations

from collections.abc import Iterable

from tests.architecture.imports import Edge

# node's layers, bottom up; a package may import its own modules and lower layers only.
LAYERS: dict[str, int] = {
    "node.errors": 0, "node.seeds": 0, "node.numeric": 0,
    "node.codec": 1, "node.data": 1,
    "node.privacy": 2,
    "node.learning": 3,
    "node.aggregation": 4,
    "node.sim": 5,
    "node.runtime": 6, "node.requester": 6,
    "node.audit": 7, "node.demo": 7,
    "node.explorer": 8,
    "node.cli": 9,
}
PURE = ("node.learning", "node.aggregation", "node.privacy", "node.codec", "node.data",
        "node.numeric", "node.seeds", "node.errors")
PURE_MAY_USE = ("ledger.manifest", "ledger.errors")  # task schema, not chain or IPFS
CHAIN_OR_IPFS = ("web3", "eth_account", "ipfshttpclient")
SIM_USERS = ("node.sim", "node.cli")


def layer_of(module: str) -> str | None:
    """The layer key a ``node`` module belongs to (``node.cli.app`` -> ``node.cli``)."""
    for key in sorted(LAYERS, key=len, reverse=True):
        if module == key or module.startswith(key + "."):
            return key
    return None


def _inside(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def violations(edges: Iterable[Edge]) -> list[str]:
    """Every import that breaks a rule, as a readable line."""
    found: list[str] = []
    for e in edges:
        where = f"{e.importer}:{e.line} imports {e.imported}"
        if e.importer.startswith("ledger"):
            if e.imported.startswith("node") or e.imported == "torch":
                found.append(f"{where}: ledger imports neither node nor torch")
            continue
        if _inside(e.importer, PURE):
            if e.imported.startswith("ledger") and not _inside(e.imported, PURE_MAY_USE):
                found.append(f"{where}: pure ML code imports no chain or IPFS code")
            if e.imported in CHAIN_OR_IPFS:
                found.append(f"{where}: pure ML code imports no chain or IPFS client")
        if _inside(e.imported, ("node.sim",)) and not _inside(e.importer, SIM_USERS):
            found.append(f"{where}: only node.sim itself and the CLI import node.sim")
        mine, theirs = layer_of(e.importer), layer_of(e.imported)
        if mine and theirs and mine != theirs and LAYERS[theirs] >= LAYERS[mine]:
            found.append(f"{where}: {mine} (layer {LAYERS[mine]}) may not import "
                         f"{theirs} (layer {LAYERS[theirs]})")
    return found
