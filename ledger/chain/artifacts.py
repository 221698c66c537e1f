"""Compiled contract artifacts (``contracts/build/<Name>.json``, written by scripts/compile.py).

Deploying needs no compiler: the artifacts are committed. The directory defaults to the
repository's ``contracts/build`` (found from this file) and can be moved with
``$FEDLEDGER_ARTIFACTS``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.chain.errors import ArtifactError

__all__ = ["Artifact", "artifacts_dir", "iter_artifacts", "load_artifact"]

_DEFAULT_DIR = Path(__file__).resolve().parents[2] / "contracts" / "build"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REQUIRED = ("abi", "bytecode", "deployedBytecode", "compiler", "settings", "sourceHashes")


@dataclass(frozen=True)
class Artifact:
    """One compiled contract. Treat the containers as read-only.

    Attributes:
        name: the contract name.
        abi: the ABI list.
        bytecode: creation code, ``0x``-prefixed hex (may hold library placeholders).
        deployed_bytecode: runtime code, ``0x``-prefixed hex.
        compiler: e.g. ``{"name": "solc", "version": "0.8.28+commit.7893614a"}``.
        settings: the compiler settings used.
        source_hashes: sha256 hex of every source unit the contract depends on.
        link_references: library placeholders in ``bytecode`` (file -> library -> offsets).
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: dict[str, str]
    settings: dict[str, Any]
    source_hashes: dict[str, str]
    link_references: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Artifact:
        """Build from the artifact file's parsed JSON.

        Raises:
            ArtifactError: a required key is missing.
        """
        missing = [k for k in _REQUIRED if k not in data]
        if missing:
            raise ArtifactError(f"artifact {name} lacks {', '.join(missing)}")
        return cls(
            name=name,
            abi=list(data["abi"]),
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            compiler=dict(data["compiler"]),
            settings=dict(data["settings"]),
            source_hashes=dict(data["sourceHashes"]),
            link_references=dict(data.get("linkReferences") or {}),
        )

    def linked_bytecode(self, libraries: Mapping[str, str] | None = None) -> str:
        """Creation code with library addresses filled in.

        Args:
            libraries: library name -> deployed address, for every library it links.

        Raises:
            ArtifactError: a linked library has no address.
        """
        code = self.bytecode
        libraries = libraries or {}
        for libs in self.link_references.values():
            for lib, spots in libs.items():
                if lib not in libraries:
                    raise ArtifactError(f"{self.name} links library {lib}: pass its address")
                address = libraries[lib].lower().removeprefix("0x")
                for spot in spots:
                    start = 2 + 2 * spot["start"]  # hex chars, after "0x"
                    code = code[:start] + address + code[start + 2 * spot["length"] :]
        return code


def artifacts_dir() -> Path:
    """The artifact directory: ``$FEDLEDGER_ARTIFACTS`` or the repository's contracts/build."""
    override = os.environ.get("FEDLEDGER_ARTIFACTS")
    return Path(override) if override else _DEFAULT_DIR


_cache: dict[tuple[Path, int], Artifact] = {}


def load_artifact(name: str, directory: Path | None = None) -> Artifact:
    """Load ``<directory>/<name>.json`` (cached until the file changes).

    Raises:
        ArtifactError: bad name, missing file (says how to build it), or invalid JSON.
    """
    if not _NAME.match(name):
        raise ArtifactError(f"not a contract name: {name!r}")
    path = (directory or artifacts_dir()) / f"{name}.json"
    try:
        key = (path.resolve(), path.stat().st_mtime_ns)
    except FileNotFoundError:
        raise ArtifactError(
            f"no artifact {path}: run `python scripts/compile.py` (or `make compile`)"
        ) from None
    if key not in _cache:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ArtifactError(f"cannot read artifact {path}: {err}") from err
        if not isinstance(data, dict):
            raise ArtifactError(f"artifact {path} is not a JSON object")
        _cache[key] = Artifact.from_json(name, data)
    return _cache[key]


def iter_artifacts(directory: Path | None = None) -> Iterator[Artifact]:
    """Every artifact in the directory, by name order (a missing directory yields nothing).

    Raises:
        ArtifactError: an artifact file is unreadable.
    """
    root = directory or artifacts_dir()
    for path in sorted(root.glob("*.json")) if root.is_dir() else ():
        yield load_artifact(path.stem, root)
