"""Latency as the editor sees it: save-to-searchable and search round trips through LSP.

Drives the real server over stdio on a real package folder:
- while the first index is built (a fresh NEARCODE_CACHE_DIR), times nearcode.search round
  trips, five a second: the editor answers while it indexes;
- saves a ~300-line file 20 times, each time with one function changed to carry a new,
  unique name, and times didSave -> a search whose top result is that function
  (lexically searchable) -> the file's chunks embedded (semantically searchable);
- times nearcode.search round trips for natural-language queries.
"""

from __future__ import annotations

import os
import re
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from .lspclient import StdioClient

QUERIES = (
    "where do we retry failed requests",
    "parse a header value into parts",
    "read configuration from environment variables",
    "close the connection when done",
    "convert a string to bytes",
)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(1000 * statistics.median(values), 1),
        "p95_ms": round(1000 * _percentile(values, 0.95), 1),
        "runs": len(values),
    }


def pick_file(folder: Path, low: int = 250, high: int = 400) -> tuple[Path, str]:
    """A Python file of about 300 lines and the name of a top-level function in it."""
    for path in sorted(folder.rglob("*.py")):
        text = path.read_text(errors="replace")
        if low <= text.count("\n") <= high:
            match = re.search(r"^def (\w+)\(", text, re.M)
            if match:
                return path, match.group(1)
    raise SystemExit(f"no Python file of {low}-{high} lines with a function in {folder}")


def _status(client: StdioClient) -> dict[str, Any]:
    return client.request(
        "workspace/executeCommand", {"command": "nearcode.status", "arguments": [{}]}
    )


def _search(client: StdioClient, query: str) -> dict[str, Any]:
    return client.request(
        "workspace/executeCommand", {"command": "nearcode.search", "arguments": [{"query": query}]}
    )


def _wait_ready(
    client: StdioClient, timeout: float, searched: list[float]
) -> dict[str, Any]:
    """Polls until every folder is indexed, searching between polls; `searched` gets the
    round trips of the searches made before then (none when the index was already built)."""
    deadline = time.monotonic() + timeout
    run = 0
    while time.monotonic() < deadline:
        status = _status(client)
        folders = status["folders"]
        if (
            status["modelLoaded"]
            and folders
            and all(f["state"] == "ready" and f.get("pending") == 0 for f in folders)
        ):
            return status
        started = time.monotonic()
        _search(client, QUERIES[run % len(QUERIES)])
        searched.append(time.monotonic() - started)
        run += 1
        time.sleep(0.2)
    raise TimeoutError(f"index not ready after {timeout} s")


def _time_one_save(
    client: StdioClient, path: Path, original: str, function: str, run: int
) -> tuple[float, float]:
    name = f"{function}_probe{run}_{uuid.uuid4().hex[:8]}"
    path.write_text(re.sub(rf"^def {function}\(", f"def {name}(", original, count=1, flags=re.M))
    started = time.monotonic()
    client.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
    searchable = embedded = None
    while embedded is None and time.monotonic() - started < 60:
        if searchable is None:
            results = _search(client, name)["results"]
            if results and results[0]["symbol"] == name:
                searchable = time.monotonic() - started
        if searchable is not None and _status(client)["folders"][0]["pending"] == 0:
            embedded = time.monotonic() - started
        time.sleep(0.005)
    if searchable is None or embedded is None:
        raise TimeoutError(f"save {run} never became searchable")
    return searchable, embedded


def measure(
    folder: Path, *, saves: int = 20, searches: int = 20, ready_timeout: float = 1800.0
) -> dict[str, Any]:
    env = dict(os.environ)
    client = StdioClient(env)
    try:
        client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": folder.as_uri(),
                "capabilities": {},
                "workspaceFolders": [{"uri": folder.as_uri(), "name": folder.name}],
            },
        )
        client.notify("initialized", {})
        started = time.monotonic()
        during_index: list[float] = []
        status = _wait_ready(client, ready_timeout, during_index)["folders"][0]
        ready_s = time.monotonic() - started
        path, function = pick_file(folder)
        original = path.read_text()
        timings = [_time_one_save(client, path, original, function, run) for run in range(saves)]
        path.write_text(original)
        round_trips = []
        for run in range(searches):
            started = time.monotonic()
            _search(client, QUERIES[run % len(QUERIES)])
            round_trips.append(time.monotonic() - started)
    finally:
        client.close()
    return {
        "folder": str(folder),
        "files": status["files"],
        "chunks": status["chunks"],
        "ready_s": round(ready_s, 1),
        "search_during_first_index": _summary(during_index) if during_index else None,
        "file": str(path.relative_to(folder)),
        "file_lines": original.count("\n"),
        "save_to_lexical": _summary([t[0] for t in timings]),
        "save_to_embedded": _summary([t[1] for t in timings]),
        "search_round_trip": _summary(round_trips),
    }


def main() -> None:
    import json
    import sys

    print(json.dumps(measure(Path(sys.argv[1]).resolve()), indent=2))


if __name__ == "__main__":
    main()
