"""Start and stop a real IPFS node (js-ipfs) on loopback, for the demo, tests and benchmarks.

Kubo cannot be installed on the project's machines; npm ``ipfs`` (js-ipfs 0.66) can,
and serves the same HTTP RPC API with the same CIDs. ``ipfs-node/preload.js`` (loaded with
``NODE_OPTIONS=--require``) adds the ``Promise.withResolvers`` polyfill Node 20 lacks and keeps
the daemon alive when a timed-out bitswap want rejects a promise nobody awaits.

Two shapes, neither of which talks to anything but 127.0.0.1:

* **isolated** (default): no swarm listener, ``--offline``; a private store.
* **swarm** (``swarm=True``): a libp2p TCP listener on a loopback port, no bootstrap peers,
  no mDNS, no delegates, no NAT mapping, no pubsub; peers are connected explicitly
  (``connect``) and content moves between them by bitswap. ``ipfs-node/package.json``
  overrides ``@multiformats/multiaddr`` to 11.6.1: with 12.x libp2p 0.42 rejects every
  listen address and the daemon exits 0 ("no valid addresses were provided for transports").

A daemon restarted over the same repo keeps its ports and its peer id, so the node processes
that hold its API URL and the peers that dialled it find it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.closing import Closing
from ledger.content_errors import ContentError

if TYPE_CHECKING:
    from typing import Self

__all__ = ["IPFS_NODE_DIR", "IpfsDaemonError", "JsIpfsDaemon", "free_port"]

_BITSWAP = "/ipfs/bitswap/1.2.0"

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
        swarm: listen for peers on a loopback TCP port (see the module docstring).
        routing: ``"none"`` when every node is dialled by every other, ``"dhtserver"`` when
            content must be found through intermediate peers.
        node_dir: the npm project holding js-ipfs and the preload file.
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
        swarm: bool = False,
        routing: str = "none",
        node_dir: Path = IPFS_NODE_DIR,
        start_timeout: float = 60.0,
    ) -> None:
        self.repo_dir = Path(repo_dir)
        self.swarm = swarm
        self.routing = routing
        self._binary = Path(node_dir) / "node_modules" / ".bin" / "jsipfs"
        self._preload = Path(node_dir) / "preload.js"
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = api_port  # kept across restarts
        self._swarm_port: int | None = None
        self._running = False
        self.log_path = self.repo_dir / "daemon.log"

    @property
    def api_url(self) -> str:
        """The running node's API URL, ``http://127.0.0.1:PORT``.

        Raises:
            IpfsDaemonError: the daemon is not running.
        """
        if not self._running or self._port is None:
            raise IpfsDaemonError("js-ipfs daemon is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def peer_id(self) -> str:
        """The node's libp2p peer id (fixed when the repo was initialised)."""
        config = json.loads((self.repo_dir / "config").read_text())
        return str(config["Identity"]["PeerID"])

    @property
    def swarm_address(self) -> str:
        """The multiaddr peers dial: ``/ip4/127.0.0.1/tcp/PORT/p2p/PEERID``.

        Raises:
            IpfsDaemonError: the daemon does not listen for peers.
        """
        if not self.swarm or self._swarm_port is None:
            raise IpfsDaemonError(f"the IPFS node in {self.repo_dir} has no swarm listener")
        return f"/ip4/127.0.0.1/tcp/{self._swarm_port}/p2p/{self.peer_id}"

    @property
    def pid(self) -> int | None:
        """The daemon's process id (None when stopped)."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Initialise the repo if needed, configure loopback ports, start, wait.

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
        self._port = self._port or free_port()
        if self.swarm:
            self._swarm_port = self._swarm_port or free_port()
        self._write_config()
        command = [str(self._binary), "daemon", "--enable-preload=false"]
        if not self.swarm:
            command.append("--offline")
        with open(self.log_path, "ab") as log:  # a file, not a pipe: nobody must drain it
            self._process = subprocess.Popen(
                command, env=self._env(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        self._running = True

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the daemon, killing it if it does not exit within ``timeout``."""
        process, self._process = self._process, None
        self._running = False
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)  # a paused daemon cannot handle SIGTERM
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def pause(self) -> None:
        """Freeze the daemon (SIGSTOP): its sockets stay open and nothing answers."""
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze a paused daemon (SIGCONT)."""
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT)

    def connect(self, address: str, *, timeout: float = 30.0) -> None:
        """Dial a peer's swarm ``address`` and wait until it speaks bitswap to us.

        Raises:
            IpfsDaemonError: the dial fails or bitswap is not up within ``timeout`` seconds.
        """
        peer = address.rsplit("/p2p/", 1)[-1]
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                self.rpc("swarm/connect", address, timeout=min(10.0, timeout))
                identity = self.rpc("id", peer, timeout=min(10.0, timeout))
                if _BITSWAP in identity.get("Protocols", []):
                    return
                last = f"{peer} does not list {_BITSWAP} yet"
            except IpfsDaemonError as err:
                last = str(err)
            time.sleep(0.2)
        raise IpfsDaemonError(f"{self.repo_dir}: could not connect to {address} "
                              f"within {timeout:.0f} s: {last}")

    def rpc(self, command: str, arg: str | None = None, *, timeout: float = 10.0,
            **options: str) -> dict[str, Any]:
        """One HTTP RPC call answering JSON (``swarm/connect``, ``id``, ``pin/ls`` ...).

        Raises:
            IpfsDaemonError: the node did not answer or refused the call.
        """
        query = ([("arg", arg)] if arg is not None else []) + list(options.items())
        url = f"{self.api_url}/api/v0/{command}?{urllib.parse.urlencode(query)}"
        request = urllib.request.Request(url, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                body = answer.read()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:500]
            raise IpfsDaemonError(f"{command} refused by {self.api_url}: {detail}") from err
        except OSError as err:
            raise IpfsDaemonError(f"{command}: {self.api_url} did not answer ({err})") from err
        return json.loads(body) if body.strip() else {}

    def close(self) -> None:
        """``Closing``'s exit hook: stop the daemon."""
        self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    # -- internals ----------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ, IPFS_PATH=str(self.repo_dir), NO_UPDATE_NOTIFIER="1")
        require = f"--require {self._preload}"
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

    def _write_config(self) -> None:
        # Loopback only, no peer found by any means but an explicit dial.
        path = self.repo_dir / "config"
        config = json.loads(path.read_text())
        addresses = config.setdefault("Addresses", {})
        addresses["Swarm"] = [f"/ip4/127.0.0.1/tcp/{self._swarm_port}"] if self.swarm else []
        addresses["Announce"] = []
        addresses["NoAnnounce"] = []
        addresses["Delegates"] = []
        addresses["API"] = f"/ip4/127.0.0.1/tcp/{self._port}"
        addresses["Gateway"] = f"/ip4/127.0.0.1/tcp/{free_port()}"
        addresses["RPC"] = f"/ip4/127.0.0.1/tcp/{free_port()}"
        config["Bootstrap"] = []
        discovery = config.setdefault("Discovery", {})
        discovery["MDNS"] = {"Enabled": False, "Interval": 10}
        discovery["webRTCStar"] = {"Enabled": False}
        config.setdefault("Swarm", {})["DisableNatPortMap"] = True
        config["Pubsub"] = {"Enabled": False}
        config["Routing"] = {"Type": self.routing}
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
