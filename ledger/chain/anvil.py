"""A local anvil process as a chain backend.

``anvil --host 127.0.0.1 --port 0 --hardfork prague`` (prague pinned so gas matches
py-evm to the unit), the port anvil picked read back from its log, funded accounts from the
standard test mnemonic. With ``state_file`` the chain survives restarts: anvil loads the file
at start and dumps it when it exits on SIGTERM, so ``close`` always stops it that way and
waits.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from web3 import Web3

from ledger.chain.accounts import DEV_MNEMONIC, dev_accounts
from ledger.chain.backend import ChainBackend
from ledger.chain.errors import AnvilNotFoundError, AnvilStartError, ChainError
from ledger.chain.rpc import http_web3, rpc_call

__all__ = ["HARDFORK", "AnvilChain", "find_anvil"]

_REPO_ROOT = Path(__file__).resolve().parents[2]
_NPM_ANVIL = _REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
_LISTENING = re.compile(r"Listening on 127\.0\.0\.1:(\d+)")
HARDFORK = "prague"


def find_anvil() -> Path:
    """Locate anvil: ``$FEDLEDGER_ANVIL``, then PATH, then the npm package in node_modules.

    Raises:
        AnvilNotFoundError: none is an executable file; the message lists every path tried.
    """
    tried: list[str] = []
    override = os.environ.get("FEDLEDGER_ANVIL")
    if override:
        # An explicit choice is final: silently using another anvil would hide a typo.
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return Path(override)
        raise AnvilNotFoundError([f"$FEDLEDGER_ANVIL={override}"])
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    tried.append("anvil on $PATH")
    if _NPM_ANVIL.is_file() and os.access(_NPM_ANVIL, os.X_OK):
        return _NPM_ANVIL
    tried.append(str(_NPM_ANVIL))
    raise AnvilNotFoundError(tried)


class AnvilChain(ChainBackend):
    """An anvil child process on 127.0.0.1.

    Attributes:
        rpc_url: the HTTP JSON-RPC URL.
        port: the TCP port anvil listens on.
        state_file: where the chain is saved on exit and loaded at start, if any.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        state_file: str | os.PathLike[str] | None = None,
        accounts: int = 10,
        balance_eth: int = 10_000,
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 15.0,
        block_time: int | None = None,
        genesis_timestamp: int | None = None,
    ) -> None:
        """Start anvil and wait until it answers.

        Args:
            port: TCP port; None lets anvil pick a free one (no race with other processes).
            state_file: load the chain from this file if it exists, save it there on close.
            accounts: how many funded development accounts.
            balance_eth: each account's starting balance, in ether.
            binary: the anvil executable; default ``find_anvil()``.
            startup_timeout: seconds to wait for anvil to listen.
            block_time: mine a block every this many seconds, like a real chain. Without
                it anvil mines only on transactions, so the latest block's timestamp (which
                every view reads) stands still while nobody transacts.
            genesis_timestamp: the genesis block's timestamp (default: wall time). anvil's
                ``prevrandao`` follows block timestamps, so with this and
                ``pin_block_interval`` a test's random draws repeat from run to run.

        Raises:
            AnvilNotFoundError: no binary (or ``binary`` does not exist).
            AnvilStartError: anvil exited or did not listen in time (its log is quoted).
        """
        self.binary = Path(binary) if binary is not None else find_anvil()
        if not (self.binary.is_file() and os.access(self.binary, os.X_OK)):
            raise AnvilNotFoundError([str(self.binary)])
        self.state_file = Path(state_file) if state_file is not None else None
        command = [
            str(self.binary),
            "--host", "127.0.0.1",
            "--port", str(port if port is not None else 0),
            "--hardfork", HARDFORK,
            "--accounts", str(accounts),
            "--balance", str(balance_eth),
            "--mnemonic", DEV_MNEMONIC,
        ]  # fmt: skip
        if self.state_file is not None:
            command += ["--state", str(self.state_file)]
        if block_time is not None:
            command += ["--block-time", str(block_time)]
        if genesis_timestamp is not None:
            command += ["--timestamp", str(genesis_timestamp)]
        # The log goes to a file, not a pipe: nobody has to drain it, anvil never blocks.
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in close()
            prefix="anvil-", suffix=".log", delete=False
        )
        self._process: subprocess.Popen[bytes] | None = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            self.port = self._wait_listening(startup_timeout)
            self.rpc_url = f"http://127.0.0.1:{self.port}"
            self.w3: Web3 = http_web3(self.rpc_url)
            self.chain_id = int(self.w3.eth.chain_id)
        except BaseException:
            self.close()
            raise
        self.accounts = dev_accounts(accounts)

    def _read_log(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def _wait_listening(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            match = _LISTENING.search(self._read_log())
            if match:
                return int(match.group(1))
            if self._process.poll() is not None:
                raise AnvilStartError(
                    f"anvil exited with code {self._process.returncode}:\n"
                    f"{self._read_log()[-2000:]}"
                )
            time.sleep(0.02)
        raise AnvilStartError(
            f"anvil did not listen within {timeout} s:\n{self._read_log()[-2000:]}"
        )

    @property
    def pid(self) -> int | None:
        """The anvil process id (None once closed): fault tests freeze it (SIGSTOP)."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """True while the anvil process is alive."""
        return self._process is not None and self._process.poll() is None

    def _rpc(self, method: str, params: list | None = None) -> object:
        return rpc_call(self.w3, method, params or [], url=self.rpc_url)

    def increase_time(self, seconds: int) -> None:
        """Mine one block exactly ``seconds`` after the latest one.

        Raises:
            ValueError: ``seconds`` < 1.
            RpcError: anvil does not answer.
        """
        if seconds < 1:
            raise ValueError(f"a new block must be at least 1 s later, not {seconds} s")
        self._rpc("evm_mine", [self.timestamp() + seconds])

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` empty blocks.

        Raises:
            RpcError: anvil does not answer.
        """
        self._rpc("anvil_mine", [hex(blocks)])

    def pin_block_interval(self, seconds: int = 1) -> None:
        """Stamp every new block exactly ``seconds`` after the previous one.

        By default anvil stamps automined blocks with wall time, so on a loaded machine a
        test's transactions drift across phase windows; pinned, time only moves when the
        chain does (``increase_time`` still jumps).

        Raises:
            ValueError: ``seconds`` < 1.
            RpcError: anvil does not answer.
        """
        if seconds < 1:
            raise ValueError(f"blocks must be at least 1 s apart, not {seconds} s")
        self._rpc("anvil_setBlockTimestampInterval", [seconds])

    def snapshot(self) -> object:
        """Remember the chain state (``evm_snapshot``).

        Raises:
            RpcError: anvil does not answer.
        """
        return self._rpc("evm_snapshot")

    def _revert(self, snapshot: object) -> None:
        if self._rpc("evm_revert", [snapshot]) is not True:
            raise ChainError(f"anvil has no snapshot {snapshot!r} (already reverted?)")

    def close(self, timeout: float = 10.0) -> None:
        """Stop anvil with SIGTERM (so it writes its state file) and wait; then SIGKILL.

        Idempotent.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if not self._log.closed:
            self._log.close()
            Path(self._log.name).unlink(missing_ok=True)

    def __del__(self) -> None:
        # Last resort so a forgotten chain does not outlive the interpreter.
        process = getattr(self, "_process", None)
        if process is not None and process.poll() is None:
            process.kill()
