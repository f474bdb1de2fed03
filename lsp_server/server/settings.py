"""Typed server settings, parsed from initializationOptions or workspace/configuration.

A bad value is reported (the caller shows it with window/showMessage) and its default used.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..engine.settings import DEFAULT_MAX_FILE_SIZE, EngineSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerSettings:
    model: str | None = None
    backend: str = "onnx"
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    result_limit: int = 20
    workspace_symbols: bool = True
    debounce_ms: int = 50

    def engine(self) -> EngineSettings:
        return EngineSettings(
            model=self.model,
            backend=self.backend,
            exclude=self.exclude,
            max_file_size=self.max_file_size,
        )


# camelCase key -> (field, check returning the parsed value or raising ValueError)
def _optional_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of glob strings")
    return tuple(value)


def _int_range(low: int, high: int):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return check


def _choice(*allowed: str):
    def check(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    return check


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


_KEYS = {
    "model": ("model", _optional_str),
    "backend": ("backend", _choice("onnx", "onnx-int8", "torch")),
    "exclude": ("exclude", _globs),
    "maxFileSize": ("max_file_size", _int_range(1024, 1 << 30)),
    "resultLimit": ("result_limit", _int_range(1, 500)),
    "workspaceSymbols": ("workspace_symbols", _bool),
    "debounceMs": ("debounce_ms", _int_range(0, 10_000)),
}


# Keys of the VS Code extension's `nearcode` section that only the client reads.
CLIENT_ONLY_KEYS = frozenset({"server", "trace"})


def parse_settings(
    raw: Any,
    base: ServerSettings | None = None,
) -> tuple[ServerSettings, list[str]]:
    """Returns the settings and one readable problem per rejected value."""
    settings = base or ServerSettings()
    if raw is None:
        return settings, []
    if isinstance(raw, dict) and isinstance(raw.get("nearcode"), dict):
        raw = raw["nearcode"]  # {"nearcode": {...}} as sent by didChangeConfiguration
    if not isinstance(raw, dict):
        return settings, [f"nearcode settings must be an object, got {type(raw).__name__}"]
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in raw.items():
        if key in CLIENT_ONLY_KEYS:
            continue  # clients send their whole section: expected, so not worth a log line
        if key not in _KEYS:
            log.info("ignoring setting %r: not a server setting", key)
            continue
        name, check = _KEYS[key]
        try:
            changes[name] = check(value)
        except ValueError as exc:
            default = getattr(ServerSettings(), name)
            problems.append(f"nearcode setting {key!r}: {exc}; using {default!r}")
    return replace(settings, **changes), problems


def model_path_problem(model: str | None, folders: Iterable[Path]) -> str | None:
    """Why a `model` path must not be loaded, or None.

    Loading a model runs code (pickled weights, custom modules), and LSP settings do not say
    which scope set them: a path inside a workspace folder (shipped by a cloned repo) or one
    that another user could have written is refused. Model names that are not paths load only
    from the local cache (offline), so they are not checked here.
    """
    if not model:
        return None
    path = Path(model).expanduser()
    if not path.exists():
        return None
    real = path.resolve()
    for folder in folders:
        if real.is_relative_to(folder.resolve()):
            return f"nearcode.model {model!r} is inside the workspace {folder}: not loaded"
    owner = real.stat().st_uid
    if owner not in (os.geteuid(), 0):
        return f"nearcode.model {model!r} belongs to another user (uid {owner}): not loaded"
    for level in (real, *real.parents):
        mode = level.stat().st_mode
        if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
            return f"nearcode.model {model!r}: {level} is writable by anyone: not loaded"
    return None


SETTING_NAMES = tuple(_KEYS)
assert {f.name for f in fields(ServerSettings)} == {name for name, _ in _KEYS.values()}
