"""The CLI's shape: shared options before or after the verb, one error path, lazy imports."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from node.cli import app
from node.cli.app import COMMANDS, build_parser, main
from node.cli.options import OPTIONS, finish

# Every group command, one verb with its required arguments, and the shared options the
# group declares (accepted before the verb and after it).
GROUPS = [
    (["store"], ["put", "FILE"], ["store", "ipfs"]),
    (["store"], ["get", "CID"], ["store", "ipfs"]),
    (["task"], ["create"], ["deployment", "rpc", "store", "ipfs"]),
    (["task"], ["show", "7"], ["deployment", "rpc", "store", "ipfs"]),
    (["node"], ["run", "--task", "1", "--data", "x.csv"],
     ["deployment", "rpc", "store", "ipfs", "key", "password_file"]),
]
VALUES = {"store": "some/dir", "ipfs": "http://127.0.0.1:5999", "deployment": "dep.json",
          "rpc": "http://127.0.0.1:8999", "key": "k.json", "password_file": "pw.txt"}


def _parse(argv: list[str]):
    return finish(build_parser().parse_args(argv))


@pytest.mark.parametrize(("group", "verb", "shared"), GROUPS,
                         ids=[" ".join(g + v[:1]) for g, v, _ in GROUPS])
def test_shared_options_work_before_and_after_the_verb(group, verb, shared) -> None:
    for name in shared:
        flag = OPTIONS[name].flags[0]
        before = _parse([*group, flag, VALUES[name], *verb])
        after = _parse([*group, *verb, flag, VALUES[name]])
        assert getattr(before, name) == getattr(after, name) == VALUES[name]
        assert name in before.given and name in after.given


@pytest.mark.parametrize(("group", "verb", "shared"), GROUPS[:1] + GROUPS[2:3] + GROUPS[4:])
def test_a_shared_option_not_typed_takes_its_default(group, verb, shared) -> None:
    args = _parse([*group, *verb])
    for name in shared:
        assert getattr(args, name) == OPTIONS[name].default
    assert args.given == frozenset()


def test_the_verbs_value_wins_over_the_groups() -> None:
    args = _parse(["store", "--store", "first", "put", "F", "--store", "second"])
    assert args.store == "second"


def test_store_and_ipfs_together_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["store", "--store", "d", "get", "CID", "--ipfs", "http://127.0.0.1:1"])
    assert code == 2
    assert "--ipfs and --store cannot be given together" in capsys.readouterr().err


def test_commands_without_a_group_take_the_ledger_options() -> None:
    args = _parse(["audit", "1", "--store", "s", "--rpc", "http://h:1"])
    assert (args.store, args.rpc, args.deployment) == ("s", "http://h:1", "deployment.json")
    assert _parse(["demo", "--ipfs", "http://h:2"]).ipfs == "http://h:2"


def test_a_reading_command_refuses_a_missing_store(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    code = main(["store", "get", "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
                 "--store", str(missing)])
    err = capsys.readouterr().err
    assert code == 1
    assert err == f"fedledger: CliError: no content store at {missing} (give --store DIR or " \
                  "--ipfs URL)\n"
    assert not missing.exists()  # nothing created behind the user's back


def test_a_key_without_a_password_is_one_line_and_exit_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("FEDLEDGER_KEY_PASSWORD", raising=False)
    assert main(["key", "new", "--out", str(tmp_path / "k.json")]) == 1
    assert capsys.readouterr().err == \
        "fedledger: CliError: set FEDLEDGER_KEY_PASSWORD to the keystore password\n"


def test_a_contradicting_dp_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dp-noise", "1.0"]) == 2
    assert "--dp-noise/--dp-epsilon need --dp-clip" in capsys.readouterr().err


def test_every_command_module_registers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(f"    {name} " in out for name in COMMANDS)


def test_a_command_module_that_fails_to_import_is_not_skipped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "COMMANDS", (*COMMANDS, "renamed_away"))
    with pytest.raises(ModuleNotFoundError, match="node.cli.renamed_away"):
        build_parser()


LIGHT = ["--help"], ["store", "--help"], ["key", "--help"], ["chain", "--help"], \
    ["audit", "--help"], ["task", "show", "--help"], ["node", "run", "--help"]


@pytest.mark.parametrize("argv", LIGHT, ids=[" ".join(a) for a in LIGHT])
def test_help_and_chain_only_commands_import_no_torch(argv: list[str]) -> None:
    script = ("import sys\nfrom node.cli.app import main\n"
              f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('torch', 'web3', 'eth_account') if m in sys.modules),"
              " file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_the_chain_only_audit_imports_no_torch(tmp_path: Path) -> None:
    # An audit that fails at the deployment file still went through the whole chain-only
    # code path's imports up to the chain; torch must not be among them.
    script = ("import sys\nfrom node.cli.app import main\n"
              f"code = main(['audit', '1', '--deployment', {str(tmp_path / 'none.json')!r}])\n"
              "print(code, 'torch' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stderr.strip().splitlines()[-1] == "1 False"


def test_python_dash_m_node_cli_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "node.cli", "--help"], check=False,
                          capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("usage: fedledger")
    assert importlib.import_module("node.cli").main is main


def test_deploy_without_rpc_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy"]) == 2
    assert "deploy needs --rpc URL" in capsys.readouterr().err
