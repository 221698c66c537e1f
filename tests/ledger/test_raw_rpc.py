"""``raw_result``: the result, or None (never an exception) so callers fall back to web3."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

from ledger.chain.raw_rpc import raw_result
from ledger.chain.rpc import http_web3


class _OneShot(BaseHTTPRequestHandler):
    """Answers each request, then closes the connection (HTTP/1.0): a kept-alive client
    must open a new connection every time."""

    protocol_version = "HTTP/1.0"
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(request["method"])
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"],
                           "result": f"answer {len(self.seen)}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_results_errors_and_transport_failures(anvil_chain):
    w3 = anvil_chain.w3
    assert int(raw_result(w3, "eth_chainId", []), 16) == anvil_chain.chain_id
    assert raw_result(w3, "eth_noSuchMethod", []) is None  # an error answer
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        dead = http_web3(f"http://127.0.0.1:{bound.getsockname()[1]}", timeout=2)
        assert raw_result(dead, "eth_chainId", []) is None


def test_a_closed_connection_is_reopened():
    server = HTTPServer(("127.0.0.1", 0), _OneShot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        w3 = http_web3(f"http://127.0.0.1:{server.server_port}", timeout=2)
        assert [raw_result(w3, "eth_blockNumber", []) for _ in range(3)] == [
            "answer 1", "answer 2", "answer 3"]
        assert _OneShot.seen == ["eth_blockNumber"] * 3
    finally:
        server.shutdown()
        server.server_close()


def test_in_process_chains_take_web3s_path(pyevm_chain):
    assert raw_result(pyevm_chain.w3, "eth_chainId", []) is None
