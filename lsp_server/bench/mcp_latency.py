"""Latency and answer size as a coding agent sees them: `nearcode mcp` over stdio.

Drives the real MCP server with the SDK's stdio client on a real package folder (the server
indexes it first, as its owner), then
- times 20 search_code calls (ten results each), natural-language queries;
- sizes each answer's text in tokens, estimated as characters / 4 (no tokenizer of the
  agents' models ships offline), and the structured content the same way;
- times the first call after a file was edited on disk (the server re-syncs it first).

    python -m lsp_server.bench.mcp_latency /path/to/requests-2.32.3
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from .lsp_latency import QUERIES, _summary, pick_file

CHARS_PER_TOKEN = 4


def estimated_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


async def _call(session: ClientSession, tool: str, arguments: dict[str, Any]) -> Any:
    result = await session.call_tool(tool, arguments)
    if result.is_error:
        raise RuntimeError(f"{tool} failed: {result.content[0].text}")
    return result


async def _wait_ready(session: ClientSession, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = (await _call(session, "index_status", {})).structured_content
        folders = status["folders"]
        if status["modelLoaded"] and all(
            f["state"] == "ready" and f["pending"] == 0 for f in folders
        ):
            return folders[0]
        await asyncio.sleep(0.5)
    raise TimeoutError(f"index not ready after {timeout} s")


async def _measure(folder: Path, searches: int, edits: int, ready_timeout: float) -> dict:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "lsp_server", "mcp", str(folder)],
        env=dict(os.environ),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        started = time.monotonic()
        await session.initialize()
        status = await _wait_ready(session, ready_timeout)
        ready_s = time.monotonic() - started
        round_trips, text_tokens, structured_tokens = [], [], []
        sample = ""
        for run in range(searches):
            query = QUERIES[run % len(QUERIES)]
            began = time.monotonic()
            result = await _call(session, "search_code", {"query": query})
            round_trips.append(time.monotonic() - began)
            text = result.content[0].text
            text_tokens.append(estimated_tokens(text))
            structured_tokens.append(estimated_tokens(json.dumps(result.structured_content)))
            sample = sample or text
        path, function = pick_file(folder)
        original = path.read_text()
        after_edit = []
        try:
            for run in range(edits):
                name = f"{function}_probe{run}_{uuid.uuid4().hex[:8]}"
                path.write_text(
                    re.sub(rf"^def {function}\(", f"def {name}(", original, count=1, flags=re.M)
                )
                began = time.monotonic()
                result = await _call(session, "search_code", {"query": name, "limit": 1})
                after_edit.append(time.monotonic() - began)
                top = result.structured_content["results"]
                if not top or top[0]["symbol"] != name or result.structured_content["stale"]:
                    raise RuntimeError(f"edit {run} not seen by the next call: {top}")
        finally:
            path.write_text(original)
    return {
        "folder": str(folder),
        "files": status["files"],
        "chunks": status["chunks"],
        "cold_index_to_ready_s": round(ready_s, 1),
        "search_code_round_trip": _summary(round_trips),
        "answer_tokens_text": {
            "median": statistics.median(text_tokens),
            "max": max(text_tokens),
            "estimate": f"characters / {CHARS_PER_TOKEN}",
        },
        "answer_tokens_structured": {
            "median": statistics.median(structured_tokens),
            "max": max(structured_tokens),
        },
        "first_call_after_an_edit": _summary(after_edit),
        "edited_file": str(path.relative_to(folder)),
        "sample_answer": sample,
    }


def measure(
    folder: Path, *, searches: int = 20, edits: int = 10, ready_timeout: float = 1800.0
) -> dict[str, Any]:
    return asyncio.run(_measure(folder, searches, edits, ready_timeout))


def main() -> None:
    print(json.dumps(measure(Path(sys.argv[1]).resolve()), indent=2))


if __name__ == "__main__":
    main()
