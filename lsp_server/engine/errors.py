"""Errors the engine raises for its callers to show: each message says what to do."""

from __future__ import annotations


class EngineError(RuntimeError):
    """A user-facing engine error (bad path, index missing, read-only, damaged)."""


class NotIndexed(EngineError):
    """The folder has no (complete) index yet."""


class ReadOnlyIndex(EngineError):
    """Another process owns the index, or its files cannot be written."""


class DamagedIndex(EngineError):
    """The index database failed; the owner repairs it (`nearcode index`)."""


class IndexClosed(EngineError):
    """The index was closed under a query: its folder left the workspace, or the process is
    stopping. Nothing is damaged; the caller answers without that folder."""


class QueryError(EngineError):
    """A query the engine cannot answer as asked (a bad position, an unreadable file)."""
