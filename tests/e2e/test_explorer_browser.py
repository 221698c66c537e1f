"""The explorer in a real headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright) against a live ``fedledger demo``: the task appears, the round counter advances
while the task runs without a reload, a click on a model opens its lineage page, the finished
task keeps being served, and the browser logs no error.

With ``FEDLEDGER_SCREENSHOTS=DIR`` the test also saves the task and model pages there (the
README's pictures in ``docs/`` come from it).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.explorer.server import free_port

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
PARTICIPANTS, ROUNDS = 3, 4
START_SECONDS, FINISH_SECONDS = 120, 300


class DemoProcess:
    """``fedledger demo`` in its own process group, its output read line by line."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "node.cli", "demo", "--workdir", str(workdir),
             "--participants", str(PARTICIPANTS), "--rounds", str(ROUNDS),
             "--explorer-port", str(port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, prefix: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        tail = "\n".join(self.seen[-30:])
        raise AssertionError(f"no line starting {prefix!r} within {seconds} s:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # what Ctrl-C does
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(f"Debian's Chromium is not installed at {CHROMIUM}: `make test` installs "
                    "it (apt-get install -y chromium, as root); never a downloaded browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[DemoProcess, str]]:
    port = free_port()
    process = DemoProcess(tmp_path / "demo", port)
    try:
        line = process.wait_line("explorer: ", START_SECONDS)
        url = f"http://127.0.0.1:{port}/"
        assert line.startswith(f"explorer: {url}")
        yield process, url
    finally:
        process.stop()


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("FEDLEDGER_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_the_explorer_follows_a_live_demo_task(browser, demo) -> None:
    process, url = demo
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    page.goto(url)
    page.wait_for_selector('tr.task-row[data-task="1"]', timeout=30_000)
    page.click('a[href="/task/1"]')
    counter = page.wait_for_selector("#round-counter", timeout=30_000)
    done_at_load = int(counter.get_attribute("data-rounds-done"))
    assert done_at_load < ROUNDS, "the task finished before the page could watch it"
    # No reload from here: the page follows the chain through the event stream.
    page.wait_for_function(
        f"Number(document.querySelector('#round-counter').dataset.roundsDone) > {done_at_load}",
        timeout=FINISH_SECONDS * 1000)

    page.click('a.model-link[data-round="1"]')
    page.wait_for_selector("#model-title", timeout=30_000)
    assert page.inner_text("#model-title") == "Round 1 model"
    assert page.locator("#updates tr").count() == 1 + PARTICIPANTS
    assert page.locator("#votes tr").count() >= 2
    page.click("#parent-link")
    page.wait_for_selector("#model-title:has-text('Genesis model')", timeout=30_000)

    # The task ends, the demo audits it and serves the finished task from its saved chain.
    process.wait_line("explorer: ", FINISH_SECONDS)
    page.goto(url + "task/1")
    page.wait_for_selector(f'#round-counter[data-rounds-done="{ROUNDS}"]', timeout=30_000)
    assert page.inner_text("#phase") == "FINISHED"
    assert page.locator("#chain-error").count() == 0  # reading the saved chain now
    assert page.locator("tr.round-row").count() == ROUNDS
    assert page.locator("svg.plot").count() == 1  # accuracy on the held-out rows
    _screenshot(page, "explorer-task.png")
    page.click(f'a.model-link[data-round="{ROUNDS}"]')
    page.wait_for_selector("#audit-status.ok", timeout=30_000)
    _screenshot(page, "explorer-model.png")
    assert problems == []
