"""Run ``scripts/flower_fedavg_app.py`` on Flower's two engines (for ``bench_round.py``).

* ``run_flower_simulation``: Flower's simulation engine (Ray actors) in this process.
* ``run_flower_deployment``: Flower's deployment engine as separate processes on
  127.0.0.1 and free ports: one ``flower-superlink --insecure``, one
  ``flower-supernode --insecure`` per participant (``partition-id`` in its node config),
  and ``flwr run`` to submit the app. Flower 1.42 runs each ClientApp message in a fresh
  ``flwr-clientapp`` process that the SuperNode's SuperExec starts (its default
  ``subprocess`` isolation), and the ServerApp in a process the SuperLink starts.

Both return ``{"round_ends": [t0, t1, ..., tR], "final": metrics, "launched": t}`` with
wall-clock times (``time.time()``): ``t0`` is the ServerApp's start of round 1, ``tr`` the
end of round r, ``launched`` when the first Flower process was started.

Requires the ``bench`` extra (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

APP_SOURCE = Path(__file__).with_name("flower_fedavg_app.py")
FLWR_VERSION = "1.42.0"


class FlowerBenchError(RuntimeError):
    """A Flower engine did not produce its result (see the logs in the work directory)."""


def _env(**extra: str) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
            "FLWR_TELEMETRY_ENABLED": "0", "PYTHONUNBUFFERED": "1", **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise FlowerBenchError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def run_flower_simulation(workdir: Path, *, rounds: int, participants: int) -> dict[str, Any]:
    """FedAvg on Flower's simulation engine (Ray), one CPU per virtual client.

    Raises:
        FlowerBenchError: the ServerApp wrote no result.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    result_file = workdir / "flower-sim.json"
    os.environ.update(_env(FEDLEDGER_BENCH_ROUNDS=str(rounds),
                           FEDLEDGER_BENCH_PARTICIPANTS=str(participants),
                           FEDLEDGER_BENCH_RESULT_FILE=str(result_file)))
    sys.path.insert(0, str(APP_SOURCE.parent))
    import flower_fedavg_app as app  # needs the bench extra
    import ray
    from flwr.simulation import run_simulation

    launched = time.time()
    try:
        run_simulation(app.server_app, app.client_app, num_supernodes=participants,
                       backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0},
                                       "init_args": {"num_cpus": os.cpu_count() or 1}})
    finally:
        if ray.is_initialized():
            ray.shutdown()
    if not result_file.exists():
        raise FlowerBenchError("the simulated ServerApp wrote no result")
    return {**json.loads(result_file.read_text()), "launched": launched}


def _write_app(app_dir: Path, *, rounds: int, participants: int, result_file: Path) -> None:
    app_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(APP_SOURCE, app_dir / APP_SOURCE.name)
    module = APP_SOURCE.stem
    (app_dir / "pyproject.toml").write_text(f"""\
[project]
name = "fedledger-bench"
version = "1.0.0"
description = "fedledger's benchmark task on Flower"
license = "MIT"
dependencies = ["flwr=={FLWR_VERSION}"]

[tool.flwr.app]
publisher = "fedledger"

[tool.flwr.app.components]
serverapp = "{module}:server_app"
clientapp = "{module}:client_app"

[tool.flwr.app.config]
rounds = {rounds}
participants = {participants}
result-file = "{result_file}"
""")


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 5
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only its group
            process.wait()


def run_flower_deployment(workdir: Path, *, rounds: int, participants: int,
                          timeout: float = 3600.0) -> dict[str, Any]:
    """FedAvg on Flower's deployment engine: SuperLink + one SuperNode per participant.

    Raises:
        FlowerBenchError: a process failed to start or no result within ``timeout``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    home, logs = workdir / "flwr-home", workdir / "flower-logs"
    home.mkdir(exist_ok=True)
    logs.mkdir(exist_ok=True)
    result_file = workdir / "flower-deployment.json"
    _write_app(workdir / "flower-app", rounds=rounds, participants=participants,
               result_file=result_file)
    link_port = free_port()
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "bench"\n\n[superlink.bench]\n'
        f'address = "127.0.0.1:{link_port}"\ninsecure = true\n')
    env = _env(FLWR_HOME=str(home))
    processes: list[subprocess.Popen] = []

    def start(name: str, command: list[str]) -> None:
        with open(logs / f"{name}.log", "ab") as log:
            processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                              env=env, cwd=workdir, start_new_session=True))

    launched = time.time()
    try:
        start("superlink", ["flower-superlink", "--insecure", "--host", "127.0.0.1",
                            "--port", str(link_port),
                            "--disable-runtime-dependency-installation"])
        _wait_port(link_port, 60)
        for index in range(participants):
            start(f"supernode-{index}", [
                "flower-supernode", "--insecure", "--superlink", f"127.0.0.1:{link_port}",
                "--port", str(free_port()),
                "--node-config", f"partition-id={index} num-partitions={participants}"])
        submitted = subprocess.run(["flwr", "run", str(workdir / "flower-app"), "bench"],
                                   env=env, cwd=workdir, capture_output=True, text=True, check=False,
                                   timeout=120)
        if submitted.returncode != 0:
            raise FlowerBenchError(f"flwr run failed: {submitted.stdout}{submitted.stderr}")
        deadline = time.monotonic() + timeout
        while not result_file.exists():
            if time.monotonic() > deadline:
                raise FlowerBenchError(f"no Flower result after {timeout:.0f} s; see {logs}")
            if processes[0].poll() is not None:
                raise FlowerBenchError(f"the SuperLink exited; see {logs}")
            time.sleep(0.5)
        return {**json.loads(result_file.read_text()), "launched": launched}
    finally:
        _stop(processes)
