"""Validation of command arguments: every bad input becomes one readable JSON-RPC error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

MAX_QUERY_CHARS = 100_000
MAX_POSITION = 10_000_000


def invalid(message: str) -> JsonRpcInvalidParams:
    error = JsonRpcInvalidParams(message)
    error.message = message
    return error


def single_object(args: tuple[Any, ...], command: str) -> dict[str, Any]:
    """Commands take one JSON object (clients send it as the only element of `arguments`)."""
    if len(args) == 0:
        return {}
    if len(args) > 1 or not isinstance(args[0], dict):
        raise invalid(f'{command} takes one object argument, e.g. {{"query": "..."}}')
    return args[0]


def text_field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise invalid(f"{key!r} must be a string")
    if not value.strip():
        raise invalid(f"{key!r} is empty")
    if len(value) > MAX_QUERY_CHARS:
        raise invalid(
            f"{key!r} is too long ({len(value):,} characters; at most {MAX_QUERY_CHARS:,})"
        )
    return value


def limit_field(obj: dict[str, Any], default: int) -> int:
    value = obj.get("limit", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 500:
        raise invalid("'limit' must be a whole number from 1 to 500")
    return value


def string_list(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key, [])
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{key!r} must be a list of strings")
    return tuple(value)


def position_of(value: Any, key: str = "position") -> tuple[int, int]:
    if not isinstance(value, dict):
        raise invalid(f"{key!r} must be an object {{line, character}}")
    line, character = value.get("line"), value.get("character")
    for name, number in (("line", line), ("character", character)):
        if isinstance(number, bool) or not isinstance(number, int):
            raise invalid(f"{key}.{name} must be a whole number")
        if not 0 <= number <= MAX_POSITION:
            raise invalid(f"{key}.{name} is out of range: {number}")
    return line, character  # type: ignore[return-value]


def range_of(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    if not isinstance(value, dict):
        raise invalid("'range' must be an object {start, end}")
    start = position_of(value.get("start"), "range.start")
    end = position_of(value.get("end"), "range.end")
    if end < start:
        raise invalid("'range' ends before it starts")
    return start, end


def document_uri(obj: dict[str, Any]) -> str:
    document = obj.get("textDocument")
    if not isinstance(document, dict) or not isinstance(document.get("uri"), str):
        raise invalid("'textDocument' must be an object with a 'uri' string")
    return document["uri"]


@dataclass(frozen=True)
class Filters:
    limit: int
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    languages: tuple[str, ...]

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "include": self.include,
            "exclude": self.exclude,
            "languages": self.languages,
        }


def filters_of(obj: dict[str, Any], default_limit: int) -> Filters:
    return Filters(
        limit_field(obj, default_limit),
        string_list(obj, "include"),
        string_list(obj, "exclude"),
        string_list(obj, "languages"),
    )
