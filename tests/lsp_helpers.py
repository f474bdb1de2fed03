"""Starting the real server over stdio with pytest-lsp's client, and waiting on its state."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER_COMMAND = [sys.executable, "-m", "lsp_server", "serve"]


def server_env(cache_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["NEARCODE_CACHE_DIR"] = str(cache_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@asynccontextmanager
async def lsp_session(
    folders: list[Path],
    cache_dir: Path,
    *,
    options: dict[str, Any] | None = None,
    client_spec: str = "visual-studio-code",
    server_command: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[LanguageClient]:
    """A real nearcode server in a subprocess, initialised with `folders`.

    `server_command` replaces the default (e.g. tests/stub_encoder.py's fast encoder); `env`
    adds variables to the server's environment.
    """
    config = ClientServerConfig(
        server_command=server_command or SERVER_COMMAND,
        server_env={**server_env(cache_dir), **(env or {})},
    )
    client = await config.start()
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(client_spec),
                workspace_folders=[
                    types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders
                ],
                root_uri=folders[0].as_uri() if folders else None,
                initialization_options=options or {},
            )
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), timeout=30)
    finally:
        process = client._server  # a failed test leaves the server running: end it
        if process is not None and process.returncode is None:
            process.kill()
        await client.stop()


def saved(uri: str) -> types.DidSaveTextDocumentParams:
    return types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))


async def command(client: LanguageClient, name: str, argument: Any = None) -> Any:
    arguments = [] if argument is None else [argument]
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=name, arguments=arguments)
    )


async def wait_until_ready(
    client: LanguageClient,
    folders: int,
    timeout: float = 180.0,
) -> dict[str, Any]:
    """Polls nearcode.status until every folder is embedded and the model is loaded."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = await command(client, "nearcode.status")
        entries = status["folders"]
        if (
            len(entries) == folders
            and status["modelLoaded"]
            and all(e["state"] == "ready" and e.get("pending") == 0 for e in entries)
        ):
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"server not ready after {timeout} s: {status}")


async def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Awaits an async predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met in {timeout} s (last value: {value!r})")
