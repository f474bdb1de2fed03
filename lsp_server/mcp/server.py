"""`nearcode mcp`: the Model Context Protocol wiring (the official `mcp` SDK, stdio).

Tools run in worker threads (engine work never blocks the protocol loop). Bad input and
engine errors become tool errors (`isError` results with the message), so the model can read
and correct them; the server keeps serving. Roots come from the command line, else from the
client (`roots/list`, again on `notifications/roots/list_changed`).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from pygls.uris import to_fs_path

from .. import __version__
from ..engine.embedder import ModelLoadError
from ..engine.errors import EngineError
from ..engine.privacy import enforce_offline_environment
from ..engine.validation import InputError
from ..logfile import log_file_handler
from .folders import FolderOptions, McpFolders
from .tools import TOOLS, ToolSpec, run_tool

log = logging.getLogger("lsp_server")

ROOTS_REQUEST_TIMEOUT_S = 10.0

INSTRUCTIONS = (
    "nearcode searches this workspace's code by meaning, locally. Prefer search_code over "
    "grep/ripgrep to find code by what it does; search_by_error for a stack trace or compiler "
    "error; find_similar_code for copies and near-duplicates of a function; index_status when "
    "an answer says partial or stale."
)


def _tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        annotations=types.ToolAnnotations(
            title=spec.title, read_only_hint=True, idempotent_hint=True, open_world_hint=False
        ),
    )


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def call(folders: McpFolders, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
    """One tool call, every failure a readable tool error (never a traceback to the model)."""
    try:
        answer = run_tool(folders, name, arguments)
    except (InputError, EngineError, ModelLoadError) as exc:
        return _error(str(exc))
    except Exception as exc:  # noqa: BLE001 - the server keeps serving; details in the log
        log.exception("tool %s failed", name)
        return _error(f"internal error in {name}: {exc!r} (details in the nearcode MCP log)")
    return types.CallToolResult(
        content=[types.TextContent(text=answer.text)], structured_content=answer.structured
    )


def create_server(folders: McpFolders, *, fixed_roots: bool) -> Server:
    tools = [_tool(spec) for spec in TOOLS]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        return await anyio.to_thread.run_sync(call, folders, params.name, params.arguments)

    server: Server = Server(
        "nearcode",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    if not fixed_roots:

        async def fetch_roots(ctx: Any, params: Any) -> None:
            await _fetch_roots(ctx, folders)

        # Registered by method (the constructor's roots hook warns that roots leave the
        # protocol's 2026 revision; today's clients speak the 2025 one, which has them).
        for method in ("notifications/initialized", "notifications/roots/list_changed"):
            server.add_notification_handler(method, types.NotificationParams, fetch_roots)
    return server


async def _fetch_roots(ctx: Any, folders: McpFolders) -> None:
    capabilities = ctx.session.client_capabilities
    if capabilities is None or capabilities.roots is None:
        folders.no_client_roots("this client does not offer MCP roots")
        return
    try:
        result = await ctx.session.send_request(
            types.ListRootsRequest(),
            types.ListRootsResult,
            request_read_timeout_seconds=ROOTS_REQUEST_TIMEOUT_S,
        )
    except Exception as exc:  # noqa: BLE001 - a client that fails roots/list: say why
        log.warning("roots/list failed: %s", exc)
        folders.no_client_roots(f"roots/list failed: {exc}")
        return
    paths = [to_fs_path(str(root.uri)) for root in result.roots]
    roots = [Path(p) for p in paths if p]
    log.info("client roots: %s", ", ".join(map(str, roots)) or "none")
    await anyio.to_thread.run_sync(folders.set_roots, roots)


def _configure_logging(level: str) -> Path | str:
    """The log file, and warnings on stderr (MCP clients show a server's stderr in their
    logs); never stdout, the protocol stream."""
    file_handler, log_file = log_file_handler("mcp.log")
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setLevel(logging.WARNING)
    stderr.setFormatter(logging.Formatter("nearcode mcp: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [file_handler, stderr]
    root.setLevel(logging.WARNING)
    logging.getLogger("lsp_server").setLevel(getattr(logging, level.upper(), logging.INFO))
    return log_file


async def _serve(server: Server) -> None:
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def run_mcp_server(roots: list[Path], options: FolderOptions, log_level: str = "INFO") -> int:
    """Serves MCP on stdin/stdout until the client closes the stream."""
    enforce_offline_environment()  # before onnxruntime, tokenizers or torch is imported
    log_file = _configure_logging(log_level)
    log.info("nearcode %s MCP server starting (log file %s)", __version__, log_file)
    folders = McpFolders(options)
    if roots:
        folders.set_roots(roots)  # indexing starts before the client has said hello
    server = create_server(folders, fixed_roots=bool(roots))
    try:
        anyio.run(_serve, server)
    except KeyboardInterrupt:
        pass
    finally:
        log.info("the client closed the connection: stopping")
        folders.stop_all()
        log.info("stopped")
    return 0
