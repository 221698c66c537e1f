"""Start and stop a real IPFS node (js-ipfs) on loopback, for tests and benchmarks.

Kubo cannot be installed on the project's machines; npm ``ipfs`` (js-ipfs 0.66) can,
and serves the same HTTP RPC API with the same CIDs. On Node 20 it needs a
``Promise.withResolvers`` polyfill (``ipfs-node/polyfill.js``, loaded with
``NODE_OPTIONS=--require``) and a config without swarm listeners or bootstrap peers;
it runs ``--offline``, so it never talks to the internet.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.closing import Closing
from ledger.content_errors import ContentError

if TYPE_CHECKING:
    from typing import Self

__all__ = ["IPFS_NODE_DIR", "IpfsDaemonError", "JsIpfsDaemon", "free_port"]

IPFS_NODE_DIR = Path(__file__).resolve().parents[2] / "ipfs-node"
"""The npm project holding js-ipfs (``make setup-ipfs`` installs it)."""


class IpfsDaemonError(ContentError):
    """The js-ipfs daemon is not installed, failed to initialise, or did not start."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JsIpfsDaemon(Closing):
    """A js-ipfs daemon over ``repo_dir``, started on enter and stopped on exit.

    Args:
        repo_dir: the IPFS repository (``IPFS_PATH``); initialised if it has no config.
        api_port: the HTTP RPC API port; a free one if ``None``.
        node_dir: the npm project holding js-ipfs and the polyfill.
        start_timeout: seconds to wait for the API to answer.

    Raises:
        IpfsDaemonError: on ``start`` if js-ipfs is missing, ``init`` fails, or the
            API does not answer in time (the message carries the daemon's log tail).
    """

    def __init__(
        self,
        repo_dir: Path,
        *,
        api_port: int | None = None,
        node_dir: Path = IPFS_NODE_DIR,
        start_timeout: float = 60.0,
    ) -> None:
        self.repo_dir = Path(repo_dir)
        self._api_port = api_port
        self._binary = Path(node_dir) / "node_modules" / ".bin" / "jsipfs"
        self._polyfill = Path(node_dir) / "polyfill.js"
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self.log_path = self.repo_dir / "daemon.log"

    @property
    def api_url(self) -> str:
        """The running node's API URL, ``http://127.0.0.1:PORT``.

        Raises:
            IpfsDaemonError: the daemon is not running.
        """
        if self._process is None or self._port is None:
            raise IpfsDaemonError("js-ipfs daemon is not running")
        return f"http://127.0.0.1:{self._port}"

    def start(self) -> None:
        """Initialise the repo if needed, configure free loopback ports, start, wait.

        Raises:
            IpfsDaemonError: see the class docstring.
        """
        if self._process is not None:
            return
        if not self._binary.exists():
            raise IpfsDaemonError(
                f"js-ipfs not installed ({self._binary} missing): run `make setup-ipfs`"
            )
        self.repo_dir.mkdir(parents=True, exist_ok=True)
        if not (self.repo_dir / "config").exists():
            self._run_init()
        port = self._api_port or free_port()
        self._write_config(port)
        with open(self.log_path, "wb") as log:  # a file, not a pipe: nobody must drain it
            self._process = subprocess.Popen(
                [str(self._binary), "daemon", "--offline"],
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._port = port
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the daemon, killing it if it does not exit within ``timeout``."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        """``Closing``'s exit hook: stop the daemon."""
        self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    # -- internals ----------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ, IPFS_PATH=str(self.repo_dir))
        require = f"--require {self._polyfill}"
        env["NODE_OPTIONS"] = f"{env.get('NODE_OPTIONS', '')} {require}".strip()
        return env

    def _run_init(self) -> None:
        try:
            subprocess.run(
                [str(self._binary), "init", "--emptyRepo"],
                env=self._env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=True,
                timeout=self._start_timeout,
            )
        except subprocess.CalledProcessError as err:
            output = (err.stdout + err.stderr).decode(errors="replace")[-2000:]
            raise IpfsDaemonError(f"`jsipfs init` failed in {self.repo_dir}:\n{output}") from err
        except subprocess.TimeoutExpired as err:
            raise IpfsDaemonError(f"`jsipfs init` timed out in {self.repo_dir}") from err

    def _write_config(self, api_port: int) -> None:
        # Loopback only, no swarm, no peers: an isolated node that can still serve the API.
        path = self.repo_dir / "config"
        config = json.loads(path.read_text())
        addresses = config.setdefault("Addresses", {})
        addresses["Swarm"] = []
        addresses["Announce"] = []
        addresses["Delegates"] = []
        addresses["API"] = f"/ip4/127.0.0.1/tcp/{api_port}"
        addresses["Gateway"] = f"/ip4/127.0.0.1/tcp/{free_port()}"
        addresses["RPC"] = f"/ip4/127.0.0.1/tcp/{free_port()}"
        config["Bootstrap"] = []
        discovery = config.setdefault("Discovery", {})
        discovery["MDNS"] = {"Enabled": False, "Interval": 10}
        discovery["webRTCStar"] = {"Enabled": False}
        path.write_text(json.dumps(config, indent=2))

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout
        url = f"http://127.0.0.1:{self._port}/api/v0/id"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise IpfsDaemonError(
                    f"js-ipfs daemon exited with {self._process.returncode}:\n{self._log_tail()}"
                )
            request = urllib.request.Request(url, method="POST")
            with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2):
                return
            time.sleep(0.2)
        raise IpfsDaemonError(
            f"js-ipfs API on port {self._port} not ready after {self._start_timeout:.0f} s:\n"
            f"{self._log_tail()}"
        )

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"
