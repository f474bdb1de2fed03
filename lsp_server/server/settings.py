"""Typed server settings, parsed from initializationOptions or workspace/configuration.

A bad value is reported (the caller shows it with window/showMessage) and its default used.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from pygls.uris import to_fs_path

from ..engine.locations import Manifest, index_dir_for
from ..engine.settings import SCOPE_FIELDS, EmbeddingsProvider, EngineSettings, recorded_scope
from ..engine.validation import (
    adapter_setting,
    choice,
    embeddings_provider,
    int_range,
    optional_text,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderScope:
    """The scope settings one workspace folder sets for itself (a VS Code multi-root
    workspace's folder settings); None where it sets none, so the window's value holds."""

    exclude: tuple[str, ...] | None = None
    max_file_size: int | None = None


@dataclass(frozen=True)
class ServerSettings:
    model: str | None = None
    backend: str = "onnx"
    adapter: str = "default"
    # None: not set by the user, so each folder keeps the scope its index was built with
    # (`nearcode index --exclude` from a terminal is not undone by opening the editor).
    exclude: tuple[str, ...] | None = None
    max_file_size: int | None = None
    result_limit: int = 20
    workspace_symbols: bool = True
    debounce_ms: int = 50
    embeddings: EmbeddingsProvider = EmbeddingsProvider()
    # Each folder's own exclude/maxFileSize, by its resolved path, over the two above.
    folder_scopes: tuple[tuple[Path, FolderScope], ...] = ()

    def engine(self) -> EngineSettings:
        """The encoder's settings, and the scope where the user set one (the default where
        not: engine_for() gives a folder's own)."""
        return replace(
            EngineSettings(
                model=self.model,
                backend=self.backend,
                adapter=self.adapter,
                embeddings=self.embeddings,
            ),
            **self._own_scope(),
        )

    def engine_for(self, root: Path) -> EngineSettings:
        """engine() for the folder `root`. A scope setting the user left unset is the one
        the folder's index was built with (settings.recorded_scope), unless an editor's
        setting chose that one: the setting is gone, so the default holds."""
        settings = self._chosen(root)
        own = settings.scope_from_editor
        if len(own) == len(SCOPE_FIELDS):
            return settings
        recorded = recorded_scope(Manifest.read(index_dir_for(root)))
        kept = {
            name: getattr(recorded, name)
            for name in SCOPE_FIELDS
            if name not in own and name not in recorded.from_editor
        }
        return replace(settings, **kept)

    def _own_scope(self, root: Path | None = None) -> dict[str, object]:
        """The scope settings the user set (SCOPE_FIELDS), by their EngineSettings names:
        the window's, each replaced by the folder `root`'s own where it sets one."""
        own = {"exclude": self.exclude, "max_file_size": self.max_file_size}
        folder = dict(self.folder_scopes).get(root) if root is not None else None
        if folder is not None:
            mine = {"exclude": folder.exclude, "max_file_size": folder.max_file_size}
            own |= {name: value for name, value in mine.items() if value is not None}
        return {name: value for name, value in own.items() if value is not None}

    def _chosen(self, root: Path) -> EngineSettings:
        """engine() with the scope the folder `root` sets, and which fields set it."""
        own = self._own_scope(root)
        return replace(self.engine(), **own, scope_from_editor=frozenset(own))

    def reopens(self, other: ServerSettings, root: Path) -> bool:
        """Whether changing to `other` means reopening the folder `root` (its encoder or
        which files it holds changes; leaving a scope setting unset changes it too)."""
        return self._chosen(root) != other._chosen(root)


def _unset_or(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`check`, with null accepted as "not set" (a client that tells the two apart)."""
    return lambda value: None if value is None else check(value)


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of glob strings")
    return tuple(value)


# The scope settings: null (or absent) is "not set" for clients that tell the two apart.
_scope_globs = _unset_or(_globs)
_scope_size = _unset_or(int_range(1024, 1 << 30))


def _folder_scopes(value: Any) -> tuple[tuple[Path, FolderScope], ...]:
    """[{"uri", "exclude", "maxFileSize"}, ...]: the scope each folder sets for itself."""
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError('expected a list of {"uri", "exclude", "maxFileSize"} objects')
    scopes: dict[Path, FolderScope] = {}
    for entry in value:
        uri = entry.get("uri")
        path = to_fs_path(uri) if isinstance(uri, str) else None
        if not path:
            raise ValueError(f"{uri!r} is not a folder's file: URI")
        try:
            scope = FolderScope(
                exclude=_scope_globs(entry.get("exclude")),
                max_file_size=_scope_size(entry.get("maxFileSize")),
            )
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc
        scopes[Path(path).resolve()] = scope
    return tuple(scopes.items())


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


# camelCase key -> (field, check returning the parsed value or raising ValueError)
_KEYS = {
    "model": ("model", optional_text),
    "backend": ("backend", choice("onnx", "onnx-int8", "torch")),
    "adapter": ("adapter", adapter_setting),
    "exclude": ("exclude", _scope_globs),
    "maxFileSize": ("max_file_size", _scope_size),
    "resultLimit": ("result_limit", int_range(1, 500)),
    "workspaceSymbols": ("workspace_symbols", _bool),
    "debounceMs": ("debounce_ms", int_range(0, 10_000)),
    "embeddings": ("embeddings", embeddings_provider),
    "folders": ("folder_scopes", _folder_scopes),
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
            if name == "embeddings":
                shown = "the local model"
            elif name == "folder_scopes":
                shown = "the window's exclude and maxFileSize in every folder"
            elif default is None and name in SCOPE_FIELDS:
                shown = "what the index was built with"
            else:
                shown = repr(default)
            problems.append(f"nearcode setting {key!r}: {exc}; using {shown}")
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


def workspace_url_problem(provider: EmbeddingsProvider, folders: Iterable[Path]) -> str | None:
    """Why an embeddings server URL must not be used, or None.

    A repository must not choose where its readers' code is sent. LSP settings do not say
    which scope set them, so the server looks where it can tell: a workspace folder's
    .vscode/settings.json that sets nearcode.embeddings with this URL.
    """
    if not provider.remote or not provider.url:
        return None
    for folder in folders:
        try:
            text = (folder / ".vscode" / "settings.json").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "nearcode.embeddings" in text and provider.url.rstrip("/") in text:
            return (
                f"nearcode.embeddings.url is set by the workspace {folder} "
                "(.vscode/settings.json): a repository cannot choose where your code is sent; "
                "set it in your user settings"
            )
    return None


SETTING_NAMES = tuple(_KEYS)
assert {f.name for f in fields(ServerSettings)} == {name for name, _ in _KEYS.values()}
