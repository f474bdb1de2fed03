"""A raw JSON-RPC peer for the real server over stdio: sends any bytes, even broken frames,
and collects every message the server writes, with timeouts so a silent server fails a test
instead of hanging it."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from .lsp_helpers import server_env
from .stub_encoder import STUB_SERVER


def framed(body: bytes) -> bytes:
    """One LSP frame: the Content-Length header, then `body`."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def framed_message(message: dict[str, Any]) -> bytes:
    """A JSON-RPC message (`jsonrpc` added) as one LSP frame."""
    return framed(json.dumps({"jsonrpc": "2.0", **message}).encode())


class RawServer:
    """The server as a subprocess; a reader thread parses its output frames."""

    def __init__(
        self, cache_dir: Path, command: list[str] | None = None, env: dict | None = None
    ) -> None:
        self.process = subprocess.Popen(
            command or STUB_SERVER,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**server_env(cache_dir), **(env or {})},
        )
        self.messages: list[dict[str, Any]] = []
        self._writing = threading.Lock()  # the reader thread answers the server's requests
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read_all, daemon=True)
        self._reader.start()

    # -- sending ------------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with self._writing:
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except BrokenPipeError:  # the server closed its input: exit_code() tells how
                pass

    def send_body(self, body: bytes) -> None:
        self.send_raw(framed(body))

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(framed_message(message))

    def request(self, request_id: Any, method: str, params: Any = None) -> dict[str, Any]:
        message: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.response(request_id)

    def initialize(self, folder: Path | None = None) -> None:
        params: dict[str, Any] = {"processId": None, "capabilities": {}, "rootUri": None}
        if folder is not None:
            params["rootUri"] = folder.as_uri()
            params["workspaceFolders"] = [{"uri": folder.as_uri(), "name": folder.name}]
        answer = self.request("init", "initialize", params)
        assert "result" in answer, answer
        self.send({"method": "initialized", "params": {}})

    # -- receiving ----------------------------------------------------------------------------

    def _read_all(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            assert length is not None, "the server sent a frame without Content-Length"
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:  # the server asks: answer plainly
                self.send({"id": message["id"], "result": None})
            with self._changed:
                self.messages.append(message)
                self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for message in self.messages:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def response(self, request_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        found = self.wait_for(
            lambda m: "method" not in m and m.get("id") == request_id, timeout
        )
        assert found is not None, f"no answer to request {request_id!r} in {timeout} s"
        return found

    def exit_code(self, timeout: float = 20.0) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> str:
        """Ends the process (if still running); returns what it wrote to stderr."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        self._reader.join(5)
        assert self.process.stderr is not None
        return self.process.stderr.read().decode("utf-8", "replace")
