"""The tools an agent sees: schemas and descriptions written for a model, argument checks, and
answers as structured data plus a compact text.

Arguments are checked by the engine's validation layer, so a bad glob or an unknown language
reads the same here as on the command line and in the editor. Nothing in this module speaks
MCP: `server.py` turns a `ToolAnswer` into a tool result and an `InputError` (or an engine
error) into a tool error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..engine import validation
from ..engine.folder_indexer import FolderIndexer
from ..engine.reports import Freshness
from ..engine.results import SearchResponse, SearchResult
from ..engine.settings import DEFAULT_MAX_FILE_SIZE
from ..engine.storage import holder_text
from ..engine.validation import MAX_LIMIT, InputError, SearchFilters
from ..engine.workspace import WorkspaceIndex

DEFAULT_LIMIT = 10  # ten results fit in a few hundred tokens (README: measured)
TEXT_LINES = 2  # lines of each definition in the text answer (all of `lines` are structured)
MAX_LINE = 10_000_000


class Folders(Protocol):
    """What the tools need from the server's folders (`folders.McpFolders`)."""

    def current(self) -> list[FolderIndexer]: ...

    def locate(self, path: str) -> tuple[FolderIndexer, Path]: ...

    def answer(
        self,
        folders: Sequence[FolderIndexer],
        run: Callable[[WorkspaceIndex], SearchResponse],
        limit: int,
    ) -> tuple[SearchResponse, list[str]]: ...

    def status(self) -> tuple[list[tuple[FolderIndexer, Freshness | None]], dict[str, Any]]: ...


@dataclass(frozen=True)
class ToolAnswer:
    structured: dict[str, Any]
    text: str


@dataclass(frozen=True)
class ToolSpec:
    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    run: Callable[[Folders, dict[str, Any]], ToolAnswer]


# -- schemas --------------------------------------------------------------------------------------

_FILTER_PROPERTIES: dict[str, Any] = {
    "limit": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_LIMIT,
        "default": DEFAULT_LIMIT,
        "description": f"How many results (default {DEFAULT_LIMIT}; ten cost a few hundred "
        "tokens).",
    },
    "include": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Only results whose path (relative to its folder) matches one of these "
        'gitignore-style globs, e.g. ["src/**"] or ["*.{ts,tsx}"].',
    },
    "exclude": {
        "type": "array",
        "items": {"type": "string"},
        "description": 'Drop results whose path matches one of these globs, e.g. ["tests/**"].',
    },
    "languages": {
        "type": "array",
        "items": {"type": "string"},
        "description": 'Only results in these languages, e.g. ["python"] or ["ts", "go"].',
    },
}

_RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "file path relative to its folder"},
        "file": {"type": "string", "description": "absolute file path"},
        "line": {"type": "integer", "description": "first line of the definition (1-based)"},
        "endLine": {"type": "integer", "description": "last line of the definition (1-based)"},
        "symbol": {"type": "string", "description": "e.g. Class.method; empty for plain code"},
        "kind": {"type": "string", "description": "function, method, class, block or window"},
        "language": {"type": "string"},
        "score": {"type": "number", "description": "relative: 1.0 is the best of this answer"},
        "lines": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the definition's signature line, then a few lines of its body "
            "around the line that matched",
        },
        "match": {
            "type": "object",
            "properties": {"line": {"type": "integer"}, "text": {"type": "string"}},
            "description": "the line (1-based) that holds the most of the query's words, or "
            "the stack frame's line; absent where no line does",
        },
        "duplicate": {"type": "boolean", "description": "the same code as the query"},
    },
    "required": ["path", "file", "line", "endLine", "symbol", "kind", "language", "score"],
}

_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "results": {"type": "array", "items": _RESULT_SCHEMA},
        "partial": {
            "type": "boolean",
            "description": "true while part of the code is not embedded yet (or the model is "
            "loading): matches by meaning may be missing",
        },
        "stale": {
            "type": "boolean",
            "description": "true when files changed on disk that the index could not re-read: "
            "a result may show code or lines that are no longer there",
        },
        "notices": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["results", "partial", "stale", "notices"],
}

_STATUS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "folders": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "root": {"type": "string"},
                    "state": {"type": "string"},
                    "files": {"type": "integer"},
                    "chunks": {"type": "integer"},
                    "embedded": {"type": "integer"},
                    "pending": {"type": "integer"},
                    "model": {"type": "string"},
                    "partial": {"type": "boolean"},
                    "stale": {"type": "boolean"},
                    "changedFiles": {"type": "integer"},
                    "readOnly": {"type": "boolean"},
                    "owner": {"type": "string"},
                    "ownerPid": {"type": ["integer", "null"]},
                },
                "required": ["root", "state", "partial", "stale", "owner"],
            },
        },
        "modelLoaded": {"type": "boolean"},
        "modelError": {"type": ["string", "null"]},
    },
    "required": ["folders", "modelLoaded"],
}


def _input_schema(properties: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return schema


# -- arguments ------------------------------------------------------------------------------------


def _checked(arguments: dict[str, Any] | None, spec_name: str) -> dict[str, Any]:
    """The arguments, refusing names the tool does not take (a typo must not pass unseen)."""
    args = arguments or {}
    known = TOOLS_BY_NAME[spec_name].input_schema["properties"]
    unknown = sorted(set(args) - set(known))
    if unknown:
        takes = ", ".join(known) or "no arguments"
        raise InputError(f"unknown argument {unknown[0]!r}: {spec_name} takes {takes}")
    return args


def _filters(args: dict[str, Any]) -> SearchFilters:
    return validation.search_filters(
        args.get("limit", DEFAULT_LIMIT),
        args.get("include"),
        args.get("exclude"),
        args.get("languages"),
    )


# -- tools ----------------------------------------------------------------------------------------


def search_code(folders: Folders, arguments: dict[str, Any]) -> ToolAnswer:
    args = _checked(arguments, "search_code")
    query = validation.query_text(args.get("query"), "'query'")
    filters = _filters(args)
    response, notices = folders.answer(
        folders.current(), lambda index: index.search(query, **filters.as_kwargs()), filters.limit
    )
    return _results_answer(response, notices, folders)


def find_similar_code(folders: Folders, arguments: dict[str, Any]) -> ToolAnswer:
    args = _checked(arguments, "find_similar_code")
    filters = _filters(args)
    if "code" in args:
        if "path" in args or "line" in args:
            raise InputError("give either 'path' and 'line', or 'code', not both")
        code = validation.query_text(args["code"], "'code'")
        # A snippet the agent holds is asked as the editors' Search by Selection asks one.
        response, notices = folders.answer(
            folders.current(),
            lambda index: index.search_text(code, **filters.as_kwargs()),
            filters.limit,
        )
        return _results_answer(response, notices, folders)
    if "path" not in args:
        raise InputError("give 'path' and 'line' (the code at that line), or a 'code' snippet")
    path = args["path"]
    if not isinstance(path, str) or not path.strip():
        raise InputError("'path' must be a file path (absolute, or relative to a folder)")
    if "line" not in args:
        raise InputError("'line' is required with 'path' (1-based, as grep and editors count)")
    line = validation.whole_number(args["line"], "line", 1, MAX_LINE)
    folder, file = folders.locate(path)
    response, notices = folders.answer(
        [folder],
        lambda index: index.similar(file, line - 1, 0, **filters.as_kwargs()),
        filters.limit,
    )
    return _results_answer(response, notices, folders)


def search_by_error(folders: Folders, arguments: dict[str, Any]) -> ToolAnswer:
    args = _checked(arguments, "search_by_error")
    text = validation.query_text(args.get("text"), "'text'")
    filters = _filters(args)
    response, notices = folders.answer(
        folders.current(),
        lambda index: index.search_text(text, **filters.as_kwargs()),
        filters.limit,
    )
    return _results_answer(response, notices, folders)


def index_status(folders: Folders, arguments: dict[str, Any]) -> ToolAnswer:
    _checked(arguments, "index_status")
    entries, overall = folders.status()
    described = [_folder_status(folder, freshness) for folder, freshness in entries]
    structured = {"folders": described, **overall}
    lines = [_status_line(entry) for entry in described] or ["no folders"]
    if overall.get("modelError"):
        lines.append(f"model error: {overall['modelError']}")
    return ToolAnswer(structured, "\n".join(lines))


# -- answers --------------------------------------------------------------------------------------


def _results_answer(response: SearchResponse, notices: list[str], folders: Folders) -> ToolAnswer:
    roots = [folder.root for folder in folders.current()]
    items = [_result_json(result, roots) for result in response.results]
    structured = {
        "results": items,
        "partial": response.partial,
        "stale": response.stale,
        "notices": notices,
    }
    return ToolAnswer(structured, render_results(items, response, notices, single=len(roots) == 1))


def _result_json(result: SearchResult, roots: list[Path]) -> dict[str, Any]:
    root = _root_of(result, roots)
    item: dict[str, Any] = {
        "path": result.path,
        "file": str(root / result.path),
        "line": result.start_line + 1,
        "endLine": result.end_line + 1,
        "symbol": result.symbol,
        "kind": result.kind,
        "language": result.language,
        "score": round(result.score, 4),
        "lines": [line.text for line in result.context],
    }
    best = next((line for line in result.context if line.best and line.line is not None), None)
    if best is not None:  # the line that matched the query (or the frame's), 1-based
        item["match"] = {"line": best.line + 1, "text": best.text}
    if result.duplicate:
        item["duplicate"] = True
    return item


def _root_of(result: SearchResult, roots: list[Path]) -> Path:
    """The folder a result came from (its uri is the folder's path joined with its path)."""
    for root in sorted(roots, key=lambda r: len(r.parts), reverse=True):
        if result.uri == (root / result.path).as_uri():
            return root
    return roots[0] if roots else Path("/")


def render_results(
    items: list[dict[str, Any]], response: SearchResponse, notices: list[str], *, single: bool
) -> str:
    """`path:line-end symbol (score)`, the signature and the line that matched, per result.

    Paths are relative to the folder when there is one folder, absolute otherwise.
    """
    lines = [f"note: {notice}" for notice in notices]
    flags = [name for name in ("partial", "stale") if getattr(response, name)]
    if flags:
        lines.append(f"({' and '.join(flags)}: see notes; index_status tells more)")
    if not items:
        lines.append("no results")
    for item in items:
        where = item["path"] if single else item["file"]
        span = f"{item['line']}-{item['endLine']}" if item["endLine"] > item["line"] else ""
        name = f" {item['symbol']}" if item["symbol"] else ""
        mark = " duplicate" if item.get("duplicate") else ""
        lines.append(f"{where}:{span or item['line']}{name} ({item['score']:.2f}){mark}")
        # The signature, then the line that matched (not the one above it, which the
        # structured `lines` hold for context), else the first line of the body.
        shown = item["lines"][:1] + ([item["match"]["text"]] if "match" in item else [])
        lines.extend(f"  {line}" for line in (shown + item["lines"][1:])[:TEXT_LINES])
    return "\n".join(lines)


def _folder_status(folder: FolderIndexer, freshness: Freshness | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"root": str(folder.root), **folder.describe()}
    index = folder.index
    entry["partial"] = (
        index is None or index.store.has_pending() or folder.status.state != "ready"
    )
    entry["stale"] = freshness is None or freshness.stale
    entry["changedFiles"] = freshness.changed if freshness is not None else 0
    if index is None:
        entry.update(owner="nobody: the index is not open", ownerPid=None, readOnly=True)
        return entry
    if index.storage.owner:
        entry.update(owner="this MCP server", ownerPid=os.getpid())
    else:
        pid = index.storage.lock.holder()
        owner = f"{holder_text(pid)}: an editor's language server or `nearcode index`"
        entry.update(owner=owner, ownerPid=pid)
    reason = index.pending_reason()
    if reason:
        entry["notices"] = [*entry.get("notices", []), reason]
    return entry


def _status_line(entry: dict[str, Any]) -> str:
    counts = (
        f"{entry['files']} files, {entry['chunks']} chunks "
        f"({entry['embedded']} embedded, {entry['pending']} pending)"
        if "files" in entry
        else "not open"
    )
    notes = "; ".join(entry.get("notices", []))
    return (
        f"{entry['root']}: {entry['state']}; {counts}; model {entry.get('model', '?')}; "
        f"owner: {entry['owner']}; partial: {_yes(entry['partial'])}; "
        f"stale: {_yes(entry['stale'])}"
        + (f" ({entry['changedFiles']} files changed on disk)" if entry["changedFiles"] else "")
        + (f"; {notes}" if notes else "")
        + _left_out_by_choice(entry)
        + _not_indexed(entry)
    )


def _left_out_by_choice(entry: dict[str, Any]) -> str:
    """'; excluding: gen/**, vendor/**; files over 2048 bytes left out' (the folder's scope,
    which no scan lists), '' where it is the default."""
    text = ""
    if entry.get("exclude"):
        text += f"; excluding: {', '.join(entry['exclude'])}"
    largest = entry.get("maxFileSize")
    if largest is not None and largest != DEFAULT_MAX_FILE_SIZE:
        text += f"; files over {largest} bytes left out"
    return text


def _not_indexed(entry: dict[str, Any]) -> str:
    """'; not indexed: 6 (css/all.css: minified ...; ...)', '' where every file is."""
    if not entry.get("skipped"):
        return ""
    named = [f"{item['path']}: {item['reason']}" for item in entry["skippedFiles"]]
    more = entry["skipped"] - len(named)
    if more:
        named.append(f"{more} more")
    return f"; not indexed: {entry['skipped']} ({'; '.join(named)})"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


# -- the tool list --------------------------------------------------------------------------------

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="search_code",
        title="Semantic code search",
        description=(
            "Search the indexed folders' code by meaning: returns the functions, methods and "
            "classes that do what the query says, even when they use other words (an embedding "
            "model plus exact identifier matching, ranked together). Use it instead of grep or "
            "ripgrep when you know what the code does but not what it is called ('where do we "
            "retry failed HTTP requests', 'parse the config file'), or to jump from an "
            "identifier to its definition without opening files one by one. Use grep for exact "
            "text (every call site of a name, a literal message). Each result is "
            "`path:start-end symbol (score)` with its signature and the line that matched; "
            "read the file at those lines for more. The index is re-synced with files changed "
            "on disk before each answer; `partial`/`stale` say when it may be incomplete or out "
            "of date."
        ),
        input_schema=_input_schema(
            {
                "query": {
                    "type": "string",
                    "description": "What the code does, in words, or a code fragment, e.g. "
                    "'evict the least recently used cache entry'; or a name alone "
                    "('DEFAULT_TIMEOUT', 'Client.send'): what is named so comes first.",
                },
                **_FILTER_PROPERTIES,
            },
            ["query"],
        ),
        output_schema=_ANSWER_SCHEMA,
        run=search_code,
    ),
    ToolSpec(
        name="find_similar_code",
        title="Find similar code",
        description=(
            "Find code like a given piece of code: near-duplicates, copies that drifted apart, "
            "other implementations of the same thing. Use it before changing a function to "
            "find the copies that need the same change, or to find an existing helper before "
            "writing a new one; grep cannot, because copies differ in names and details. Give "
            "`path` and `line` (the function, method or class at that line of a file in the "
            "indexed folders; it is not returned itself; a class is answered with other "
            "classes first, each whole), or a `code` snippet."
        ),
        input_schema=_input_schema(
            {
                "path": {
                    "type": "string",
                    "description": "A file in the indexed folders: absolute, or relative to "
                    "its folder (e.g. 'src/http/client.py').",
                },
                "line": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "A line inside the definition to compare (1-based).",
                },
                "code": {
                    "type": "string",
                    "description": "A code snippet to compare instead of path and line.",
                },
                **_FILTER_PROPERTIES,
            }
        ),
        output_schema=_ANSWER_SCHEMA,
        run=find_similar_code,
    ),
    ToolSpec(
        name="search_by_error",
        title="Search by error or stack trace",
        description=(
            "Paste a stack trace, traceback, panic, compiler or linter error (anything with "
            "file:line references): returns the definitions its frames point at first, "
            "innermost first and as the code is now, then code similar to the error text. Use "
            "it first when debugging an error, instead of opening each frame's file by hand. "
            "Frames written on another machine or in a container match by path suffix; frames "
            "outside the indexed folders (libraries) are skipped."
        ),
        input_schema=_input_schema(
            {
                "text": {
                    "type": "string",
                    "description": "The error output or stack trace, as printed.",
                },
                **_FILTER_PROPERTIES,
            },
            ["text"],
        ),
        output_schema=_ANSWER_SCHEMA,
        run=search_by_error,
    ),
    ToolSpec(
        name="index_status",
        title="Code index status",
        description=(
            "What the code index holds for each folder: files, chunks (definitions), how many "
            "are embedded and pending, the model, whether answers may be partial (embedding "
            "still running) or stale (files changed on disk and not re-indexed yet), and who "
            "keeps the index up to date (this server, or an editor's nearcode language server). "
            "Call it when a search says partial or stale, or finds nothing you expected."
        ),
        input_schema=_input_schema({}),
        output_schema=_STATUS_SCHEMA,
        run=index_status,
    ),
)

TOOLS_BY_NAME = {spec.name: spec for spec in TOOLS}


def run_tool(folders: Folders, name: str, arguments: dict[str, Any] | None) -> ToolAnswer:
    """Runs a tool by name; raises InputError (bad input) or EngineError (the index said no)."""
    spec = TOOLS_BY_NAME.get(name)
    if spec is None:
        raise InputError(f"unknown tool {name!r} (tools: {', '.join(TOOLS_BY_NAME)})")
    if arguments is not None and not isinstance(arguments, dict):
        raise InputError(f"{name} takes an object of named arguments")
    return spec.run(folders, arguments or {})
