"""Validation of command arguments: every bad input becomes one readable JSON-RPC error."""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from ..engine import validation
from ..engine.validation import InputError, SearchFilters

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
    try:
        return validation.query_text(obj.get(key), repr(key))
    except InputError as exc:
        raise invalid(str(exc)) from exc


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


def filters_of(obj: dict[str, Any], default_limit: int) -> SearchFilters:
    """The search filters of a command's argument, checked as the CLI checks them."""
    try:
        return validation.search_filters(
            obj.get("limit", default_limit),
            obj.get("include"),
            obj.get("exclude"),
            obj.get("languages"),
        )
    except InputError as exc:
        raise invalid(str(exc)) from exc
