"""A minimal LSP client over stdio: enough to time start-up and a first search."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "lsp_server", "serve"]


class StdioClient:
    """Speaks JSON-RPC with Content-Length framing; answers the server's own requests."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._next_id = 0

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        length = 0
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise ConnectionError("the server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.process.stdout.read(length))

    def request(self, method: str, params: Any) -> Any:
        self._next_id += 1
        wanted = self._next_id
        self._send({"id": wanted, "method": method, "params": params})
        while True:
            message = self._read()
            if "method" in message and "id" in message:  # the server asks us something
                self._send({"id": message["id"], "result": _answer(message)})
            elif message.get("id") == wanted and "method" not in message:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result")

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except (OSError, ConnectionError, RuntimeError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()


def _answer(message: dict[str, Any]) -> Any:
    if message["method"] == "workspace/configuration":
        return [None] * len(message.get("params", {}).get("items", []))
    return None


def time_startup(folder: Path, env: dict[str, str], query: str, timeout: float = 120.0) -> dict:
    """Seconds from spawn to the `initialize` answer, to first results, to complete results."""
    started = time.monotonic()
    client = StdioClient(env)
    try:
        client.request(
            "initialize",
            {
                "processId": None,
                "rootUri": folder.as_uri(),
                "capabilities": {},
                "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}],
            },
        )
        initialized = time.monotonic() - started
        client.notify("initialized", {})
        first = complete = None
        while complete is None and time.monotonic() - started < timeout:
            found = client.request(
                "workspace/executeCommand",
                {"command": "nearcode.search", "arguments": [{"query": query}]},
            )
            if found and found.get("results"):
                first = first or time.monotonic() - started
                if not found.get("partial"):
                    complete = time.monotonic() - started
            if complete is None:
                time.sleep(0.05)
        return {
            "initialize_s": round(initialized, 3),
            "first_results_s": round(first, 3) if first else None,
            "complete_results_s": round(complete, 3) if complete else None,
        }
    finally:
        client.close()
