"""The deployment file: where the contracts live, written by ``fedledger deploy``.

Every other command reads it instead of taking addresses on the command line. It records
the chain id (so a file is never used against another chain by mistake), the block the
market was deployed in (where event scans start) and the sha256 of each artifact used,
so an auditor can tell exactly which bytecode was deployed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from ledger.chain.artifacts import artifacts_dir
from ledger.errors import LedgerError
from ledger.market import CONTRACT_NAME, FedMarket
from ledger.seed_reveals import CONTRACT_NAME as SEED_REVEALS_NAME
from ledger.seed_reveals import SeedReveals

__all__ = ["FORMAT", "Deployment", "DeploymentError", "deploy_market"]

FORMAT = "fedledger-deployment/1"


class DeploymentError(LedgerError):
    """A deployment file that is missing, malformed, or for another chain."""


@dataclass(frozen=True)
class Deployment:
    """Addresses and provenance of one deployment.

    Attributes:
        chain_id: the chain the contracts live on.
        rpc_url: the JSON-RPC URL used to deploy (a default for later commands).
        market: the FedMarket address.
        block: the deployment block (event scans start here).
        artifacts: artifact name -> sha256 of its JSON file.
        seed_reveals: the SeedReveals address ("" in files written before it existed:
            such a deployment serves open-mode tasks only).
    """

    chain_id: int
    rpc_url: str
    market: str
    block: int
    artifacts: dict[str, str]
    seed_reveals: str = ""

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps({"format": FORMAT, **asdict(self)}, indent=2, sort_keys=True)
                        + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Deployment:
        """Read a deployment file.

        Raises:
            DeploymentError: the file is missing or not a fedledger deployment.
        """
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError as err:
            raise DeploymentError(f"no deployment file at {path}: run `fedledger deploy`") from err
        except json.JSONDecodeError as err:
            raise DeploymentError(f"{path} is not JSON: {err}") from err
        if not isinstance(data, dict) or data.pop("format", None) != FORMAT:
            raise DeploymentError(f"{path} is not a {FORMAT} file")
        try:
            return cls(**data)
        except TypeError as err:
            raise DeploymentError(f"{path}: {err}") from err

    def check_chain(self, w3: Web3) -> None:
        """Raise DeploymentError unless ``w3`` is connected to this deployment's chain."""
        chain_id = int(w3.eth.chain_id)
        if chain_id != self.chain_id:
            raise DeploymentError(
                f"deployment is for chain {self.chain_id}, connected to chain {chain_id}")
        if not w3.eth.get_code(Web3.to_checksum_address(self.market)):
            raise DeploymentError(f"no contract at {self.market} on chain {chain_id}")

    def seed_reveals_at(self, w3: Web3) -> SeedReveals:
        """The deployment's SeedReveals client.

        Raises:
            DeploymentError: the deployment predates SeedReveals (no secure tasks).
        """
        if not self.seed_reveals:
            raise DeploymentError("this deployment has no SeedReveals contract: redeploy "
                                  "with `fedledger deploy` to run secure tasks")
        return SeedReveals.at(w3, self.seed_reveals)


def _artifact_sha256(name: str) -> str:
    return hashlib.sha256((artifacts_dir() / f"{name}.json").read_bytes()).hexdigest()


def deploy_market(w3: Web3, *, sender: LocalAccount, rpc_url: str) -> tuple[Deployment, FedMarket]:
    """Deploy a FedMarket and its SeedReveals from the committed artifacts and describe them."""
    block = int(w3.eth.block_number)  # a lower bound of the deployment block: scans start here
    market = FedMarket.deploy(w3, sender=sender)
    reveals = SeedReveals.deploy(w3, market.address, sender=sender)
    deployment = Deployment(
        chain_id=int(w3.eth.chain_id), rpc_url=rpc_url, market=market.address, block=block,
        artifacts={name: _artifact_sha256(name) for name in (CONTRACT_NAME, SEED_REVEALS_NAME)},
        seed_reveals=reveals.address,
    )
    return deployment, market
