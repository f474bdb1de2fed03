"""Validation of user input, shared by every adapter (command line, language server, MCP).

Each check either returns the cleaned value or raises `InputError` with one sentence that says
what is wrong and what would be accepted. Adapters turn it into their own error shape (exit
status 2, JSON-RPC InvalidParams, an MCP tool error), so a bad glob reads the same everywhere.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from .languages import LANGUAGE_ALIASES, LANGUAGE_FAMILIES, known_languages
from .remote_encoder import config_problem
from .settings import DEFAULT_ADAPTER, NO_ADAPTER, PROVIDERS, EmbeddingsProvider

MAX_LIMIT = 500
MAX_GLOBS = 100
MAX_GLOB_CHARS = 1000
MAX_QUERY_CHARS = 100_000
MIN_FILE_SIZE_LIMIT = 1024
MAX_FILE_SIZE_LIMIT = 1 << 30


class InputError(ValueError):
    """Input a user can fix; `str(error)` is the whole message."""


# -- numbers ----------------------------------------------------------------------------------


def whole_number(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(
            f"'{name}' must be a whole number from {low:,} to {high:,}, got {value!r}"
        )
    return value


def result_limit(value: object) -> int:
    return whole_number(value, "limit", 1, MAX_LIMIT)


def max_file_size(value: object) -> int:
    return whole_number(value, "max file size", MIN_FILE_SIZE_LIMIT, MAX_FILE_SIZE_LIMIT)


# -- text -------------------------------------------------------------------------------------


def query_text(value: object, name: str = "query") -> str:
    if not isinstance(value, str):
        raise InputError(f"{name} must be a string")
    if not value.strip():
        raise InputError(f"{name} is empty")
    if len(value) > MAX_QUERY_CHARS:
        raise InputError(
            f"{name} is too long ({len(value):,} characters; at most {MAX_QUERY_CHARS:,})"
        )
    return value


# -- globs ------------------------------------------------------------------------------------


def expand_braces(pattern: str) -> list[str]:
    """`*.{py,pyi}` -> [`*.py`, `*.pyi`], as VS Code's search fields allow (gitignore does not)."""
    depth, start, position = 0, -1, 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2  # an escaped character is literal
            continue
        if char == "{":
            start = position if depth == 0 else start
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise InputError(f"bad glob {pattern!r}: '}}' without '{{'")
            if depth == 0:
                head, tail = pattern[:start], pattern[position + 1 :]
                options = _split_options(pattern[start + 1 : position])
                return [x for option in options for x in expand_braces(head + option + tail)]
        position += 1
    if depth:
        raise InputError(f"bad glob {pattern!r}: '{{' is never closed")
    return [pattern]


def _split_options(inner: str) -> list[str]:
    options, depth, current = [], 0, ""
    for char in inner:
        if char == "," and depth == 0:
            options.append(current)
            current = ""
            continue
        depth += (char == "{") - (char == "}")
        current += char
    return [*options, current]


def _check_brackets(pattern: str) -> None:
    """Character classes must close and their ranges must run upwards: `[z-a]` is an error."""
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position = _check_class(pattern, position)
        position += 1


def _check_class(pattern: str, opening: int) -> int:
    """Returns the position of the class's closing bracket."""
    position = opening + 1
    if position < len(pattern) and pattern[position] in "!^":
        position += 1
    first = position
    while position < len(pattern) and (pattern[position] != "]" or position == first):
        if pattern[position] == "\\":
            position += 1
        elif (
            pattern[position] == "-"
            and first < position < len(pattern) - 1
            and pattern[position + 1] != "]"
            and pattern[position - 1] > pattern[position + 1]
        ):
            low, high = pattern[position - 1], pattern[position + 1]
            raise InputError(f"bad glob {pattern!r}: the range {low}-{high} runs backwards")
        position += 1
    if position >= len(pattern):
        raise InputError(f"bad glob {pattern!r}: '[' is never closed (write '\\[' for a bracket)")
    return position


def globs(values: object, name: str = "glob") -> tuple[str, ...]:
    """Checked gitignore-style globs, braces expanded; raises InputError naming the bad one."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InputError(f"'{name}' must be a list of glob strings")
    if len(values) > MAX_GLOBS:
        raise InputError(f"too many {name} patterns ({len(values)}; at most {MAX_GLOBS})")
    expanded: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise InputError(f"'{name}' must be a list of glob strings, got {value!r}")
        if not value.strip():
            raise InputError(f"{name} pattern is empty")
        if len(value) > MAX_GLOB_CHARS:
            raise InputError(f"{name} pattern is too long ({len(value)} > {MAX_GLOB_CHARS})")
        for pattern in expand_braces(value):
            _check_brackets(pattern)
            expanded.append(pattern)
    compile_globs(expanded)  # what pathspec itself rejects
    return tuple(expanded)


def compile_globs(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The one place globs become a matcher (pathspec picks its linear-time re2 backend)."""
    lines = list(patterns)
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as exc:  # re.error is a ValueError
        raise InputError(f"bad glob in {lines!r}: {exc}") from exc


# -- languages --------------------------------------------------------------------------------


def languages(values: object) -> tuple[str, ...]:
    """Language ids (aliases such as `ts` or `golang` accepted); an unknown one is an error
    that suggests the closest known names."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InputError("'languages' must be a list of language names")
    known = known_languages()
    chosen: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise InputError(f"'languages' must be a list of language names, got {value!r}")
        name = value.strip().lower()
        name = LANGUAGE_ALIASES.get(name, name)
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known | set(LANGUAGE_ALIASES)), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            listing = ", ".join(sorted(known))
            raise InputError(f"unknown language {value!r}{hint} (known: {listing})")
        for member in LANGUAGE_FAMILIES.get(name, (name,)):
            if member not in chosen:
                chosen.append(member)
    return tuple(chosen)


# -- search filters ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    """Checked result filters, as every adapter passes them to the engine."""

    limit: int = 20
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    def as_kwargs(self) -> dict[str, object]:
        return {
            "limit": self.limit,
            "include": self.include,
            "exclude": self.exclude,
            "languages": self.languages,
        }


def search_filters(
    limit: object = 20,
    include: object = (),
    exclude: object = (),
    language_names: object = (),
) -> SearchFilters:
    return SearchFilters(
        result_limit(limit),
        globs(include, "include"),
        globs(exclude, "exclude"),
        languages(language_names),
    )


# -- places -----------------------------------------------------------------------------------


def writable_folder(path: Path, purpose: str) -> Path:
    """A folder nearcode may create and write in (the cache); explains why not otherwise."""
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InputError(f"cannot use {path} for {purpose}: {existing} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write {purpose} in {path}: {reason}") from exc
    return path


def model_reference(value: str | None) -> str | None:
    """A model folder that must exist, or a model name (`org/name`) for the local cache."""
    if not value:
        return None
    if value.startswith(("/", "./", "../", "~")) and not Path(value).expanduser().exists():
        raise InputError(
            f"no model folder at {value} (give a sentence-transformers model folder, or a "
            "model name that is already in the local Hugging Face cache)"
        )
    return value


def adapter_setting(value: object) -> str:
    """"default" (the adapter shipped in the package), "none", or an adapter file that exists."""
    words = (DEFAULT_ADAPTER, NO_ADAPTER)
    if value is None or value == "":
        return DEFAULT_ADAPTER
    if not isinstance(value, str):
        raise InputError('expected "default", "none" or the path of an adapter file')
    if value not in words and not Path(value).expanduser().is_file():
        raise InputError(
            f"no adapter file at {value} (give a .npz written by `nearcode train`, "
            '"default" or "none")'
        )
    return value if value in words else str(Path(value).expanduser().resolve())


def tcp_address(value: str) -> tuple[str, int]:
    """`HOST:PORT` or `:PORT` (loopback) for `serve --tcp`."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit():
        raise InputError(f"expected HOST:PORT for --tcp, e.g. 127.0.0.1:2087, got {value!r}")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise InputError(f"port must be from 1 to 65535, got {port}")
    return host.strip("[]") or "127.0.0.1", port


def existing_folder(value: str | os.PathLike[str]) -> Path:
    folder = Path(value).expanduser()
    if not folder.exists():
        raise InputError(f"no such folder: {value}")
    if not folder.is_dir():
        raise InputError(f"not a folder: {value}")
    return folder.resolve()


# -- settings objects: the editors' settings and the CLI's options share these -----------------


def optional_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError("expected a string")
    return value


def int_range(low: int, high: int):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(f"expected a whole number from {low} to {high}")
        return value

    return check


def choice(*allowed: str):
    def check(value: Any) -> str:
        if value not in allowed:
            raise InputError(f"expected one of {', '.join(allowed)}")
        return value

    return check


def _api_key_env(value: Any) -> str:
    # A name, never the key itself: keys do not belong in (shared, synced) settings files.
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not value.replace("_", "A").isalnum() or value[0].isdigit():
        raise InputError("expected the NAME of an environment variable, e.g. OPENAI_API_KEY")
    return value


def _optional_int_range(low: int, high: int):
    whole = int_range(low, high)
    return lambda value: None if value in (None, 0) else whole(value)


# camelCase key inside "embeddings" -> (EmbeddingsProvider field, check)
_EMBEDDINGS_KEYS = {
    "provider": ("provider", choice(*PROVIDERS)),
    "url": ("url", lambda value: optional_text(value) or ""),
    "model": ("model", lambda value: optional_text(value) or ""),
    "dimensions": ("dimensions", _optional_int_range(1, 65_536)),
    "batchSize": ("batch_size", int_range(1, 2048)),
    "maxConcurrency": ("max_concurrency", int_range(1, 64)),
    "timeoutMs": ("timeout_ms", int_range(100, 600_000)),
    "apiKeyEnv": ("api_key_env", _api_key_env),
}


def embeddings_provider(value: Any) -> EmbeddingsProvider:
    """The "embeddings" settings (camelCase keys, as the editors and the CLI give them).
    Any bad part rejects the whole: a half-understood remote configuration must not send code
    anywhere by mistake."""
    if not isinstance(value, dict):
        raise InputError("expected an object like {provider, url, model}")
    changes: dict[str, Any] = {}
    for key, raw in value.items():
        if key not in _EMBEDDINGS_KEYS:
            raise InputError(f"unknown key {key!r} (known: {', '.join(_EMBEDDINGS_KEYS)})")
        name, check = _EMBEDDINGS_KEYS[key]
        try:
            changes[name] = check(raw)
        except ValueError as exc:
            raise InputError(f"{key}: {exc}") from None
    provider = EmbeddingsProvider(**changes)
    if provider.remote:
        problem = config_problem(provider)
        if problem is not None:
            raise InputError(problem)
    return provider
