"""Each package's front door (as httpx's test_exported_members): a docstring, and an
``__all__`` that names exactly its public rooms; each module's ``__all__`` names exactly
what it defines for others."""

from __future__ import annotations

import ast
import importlib

import pytest

from tests.architecture.imports import REPO, modules

PACKAGES = sorted(name for name, path in modules().items() if path.name == "__init__.py")
MODULES = sorted(name for name, path in modules().items()
                 if path.name not in ("__init__.py", "__main__.py"))
# A few packages export names rather than rooms.
FRONT_DOOR_NAMES = {"node.cli": ["main"], "ledger.chain": None, "ledger": None}


def _public_rooms(package: str) -> list[str]:
    folder = REPO.joinpath(*package.split("."))
    rooms = [p.stem for p in folder.glob("*.py") if not p.name.startswith("_")]
    rooms += [p.name for p in folder.iterdir() if (p / "__init__.py").exists()]
    return sorted(rooms)


def _defined(module: str) -> set[str]:
    """Public functions, classes and UPPER_CASE constants the module defines itself."""
    tree = ast.parse(modules()[module].read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()}
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("package", [p for p in PACKAGES if p.startswith("node")])
def test_a_node_package_names_its_rooms(package: str) -> None:
    imported = importlib.import_module(package)
    assert (imported.__doc__ or "").strip(), f"{package} has no docstring"
    expected = FRONT_DOOR_NAMES.get(package, _public_rooms(package))
    assert sorted(imported.__all__) == imported.__all__ == expected


@pytest.mark.parametrize("module", MODULES)
def test_a_module_exports_what_it_defines(module: str) -> None:
    imported = importlib.import_module(module)
    exported = getattr(imported, "__all__", None)
    assert exported is not None, f"{module} has no __all__"
    missing = [name for name in exported if not hasattr(imported, name)]
    assert missing == []
    assert set(exported) >= _defined(module), "public names not in __all__"
    assert len(set(exported)) == len(exported)
