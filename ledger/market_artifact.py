"""FedMarket's ABI as a client sees it: the core contract's plus its modules'.

FedMarket runs the hot paths itself and delegates every other selector, through its fallback,
along a chain of modules (``contracts/FedMarket.sol``). A client speaks to the FedMarket address
with the union of their ABIs: functions, events and errors.
"""

from __future__ import annotations

from dataclasses import replace

from ledger.chain.artifacts import Artifact, load_artifact

__all__ = ["CONTRACT_NAME", "MODULES", "market_artifact"]

CONTRACT_NAME = "FedMarket"
MODULES = ("FedMarketLifecycle", "FedMarketDisputes", "FedMarketViews")
"""The modules FedMarket's fallback reaches, in chain order (each delegates to the next)."""


def market_artifact() -> Artifact:
    """FedMarket's artifact with its modules' functions, events and errors merged into the ABI."""
    core = load_artifact(CONTRACT_NAME)
    seen = {(e.get("type"), e.get("name")) for e in core.abi}
    abi = list(core.abi)
    for name in MODULES:
        for entry in load_artifact(name).abi:
            key = (entry.get("type"), entry.get("name"))
            if entry.get("type") in ("constructor", "fallback", "receive") or key in seen:
                continue
            seen.add(key)
            abi.append(entry)
    return replace(core, abi=abi)
